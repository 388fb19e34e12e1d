"""The pytest plugin (entry point ``pytest11: replay``): fixtures and saved-history checks.

Fixtures:
* ``replay_env``: a time-skipping :class:`~replay.testing.WorkflowEnvironment`
  (in-memory store), shut down after the test;
* ``replay_client``: its client;
* ``replay_data_converter``: the DataConverter ``replay_env``'s client uses (None: the
  default). It comes from ``--replay-data-converter MODULE:ATTR`` (or the ini setting
  ``replay_data_converter``), else ``REPLAY_DATA_CONVERTER`` in a loaded
  ``conftest.py``; override the fixture to build one per test.

The plugin loads in every pytest run of a project that installed replay, so it
imports nothing optional at load time: the fixtures need pytest-asyncio and the
``testing`` extra (``pip install 'replay-engine[testing]'``), and a test that
uses one without them is skipped with a reason saying what to install.

Saved histories: ``pytest --replay-histories PATH`` (or the ini setting
``replay_histories``) collects one test per ``*.json`` file under PATH and
replays it against the workflow classes listed in ``REPLAY_WORKFLOWS`` of any
loaded ``conftest.py``; a divergence fails that test with the
NondeterminismError text. They are decoded with the same data converter (so
histories written through a payload codec replay).

The plugin holds no assert statement, and pytest does not rewrite replay's own
modules in a user's run (``replay._assert_rewriting``).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from replay.history import History, ReplayError

from ._assert_rewriting import withdraw_rewrite_marks
from ._client._client import Client
from ._core._data_converter import DataConverter
from ._replay._replayer import Replayer

if TYPE_CHECKING:
    from .testing import WorkflowEnvironment

# replay may have been imported before pytest marked it (pytest.main() called from a
# program that uses replay): the engine modules imported from here on stay plain too
withdraw_rewrite_marks()

WORKFLOWS_ATTR = "REPLAY_WORKFLOWS"
CONVERTER_ATTR = "REPLAY_DATA_CONVERTER"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("replay", "replay: saved workflow histories")
    group.addoption("--replay-histories", action="append", default=[], metavar="PATH",
                    help="replay every *.json history under PATH against the workflows in "
                         f"conftest.py's {WORKFLOWS_ATTR} (one test per file)")
    parser.addini("replay_histories", type="paths", default=[],
                  help="directories of saved histories to replay (like --replay-histories)")
    group.addoption("--replay-data-converter", default=None, metavar="MODULE:ATTR",
                    help="the DataConverter (module:attribute) that replay_env and the "
                         "saved-history checks use, e.g. one with a payload codec")
    parser.addini("replay_data_converter", default=None,
                  help="the DataConverter as module:attribute (like --replay-data-converter)")


_CONVERTER_KEY = pytest.StashKey[DataConverter]()


def pytest_configure(config: pytest.Config) -> None:
    # a converter named on the command line is loaded (and refused) before anything runs
    spec = config.getoption("replay_data_converter") or config.getini("replay_data_converter")
    if spec:
        config.stash[_CONVERTER_KEY] = _load_converter(str(spec))


def configured_data_converter(config: pytest.Config) -> DataConverter | None:
    """--replay-data-converter, else the ini setting, else a conftest's
    ``REPLAY_DATA_CONVERTER``; None when none is given."""
    given = config.stash.get(_CONVERTER_KEY, None)
    if given is not None:
        return given
    for plugin in config.pluginmanager.get_plugins():
        found = getattr(plugin, CONVERTER_ATTR, None)
        if found is not None:
            return _checked(found, f"{CONVERTER_ATTR} in {getattr(plugin, '__name__', '?')}")
    return None


def _load_converter(spec: str) -> DataConverter:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise pytest.UsageError(f"--replay-data-converter: {spec!r} is not module:attribute")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise pytest.UsageError(f"--replay-data-converter: module {module_name!r} has no "
                                    f"attribute {attr!r}")
        obj = getattr(obj, part)
    return _checked(obj, spec)


def _checked(obj: Any, where: str) -> DataConverter:
    if not isinstance(obj, DataConverter):
        raise pytest.UsageError(f"{where} is a {type(obj).__name__}, not a "
                                "replay.converter.DataConverter")
    return obj


@pytest.fixture
def replay_data_converter(request: pytest.FixtureRequest) -> DataConverter | None:
    """The data converter of ``replay_env``'s client (None: the default); see the module
    docstring for where it comes from, or override this fixture."""
    return configured_data_converter(request.config)


def _environment_class() -> type[WorkflowEnvironment]:
    """replay.testing's WorkflowEnvironment, imported on first use; skips the test when
    the ``testing`` extra is missing (the ImportError's message says what to install)."""
    try:
        from .testing import WorkflowEnvironment
    except ImportError as exc:
        if exc.name != "hypothesis":  # a bug of ours, not a missing extra: show it
            raise
        pytest.skip(f"replay_env: {exc}")
    return WorkflowEnvironment


async def _environment(replay_data_converter: DataConverter | None
                       ) -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping WorkflowEnvironment on an in-memory store, shut down afterwards."""
    env = await _environment_class().start_time_skipping(data_converter=replay_data_converter)
    try:
        yield env
    finally:
        await env.shutdown()


try:  # the plugin loads for every pytest run once replay is installed: fail soft
    import pytest_asyncio
except ImportError:  # the history checks work without it; the async fixtures cannot
    @pytest.fixture(name="replay_env")
    def _replay_env_unavailable() -> WorkflowEnvironment:
        """Skips: the environment fixture needs pytest-asyncio."""
        pytest.skip("the replay_env fixture needs pytest-asyncio: pip install pytest-asyncio")
else:
    replay_env = pytest_asyncio.fixture(_environment, name="replay_env")


@pytest.fixture
def replay_client(replay_env: WorkflowEnvironment) -> Client:
    """The client of ``replay_env``."""
    return replay_env.client


def _history_dirs(config: pytest.Config) -> list[Path]:
    given = [Path(p) for p in config.getoption("replay_histories")]
    ini: Iterable[Any] = config.getini("replay_histories")
    return [*given, *(Path(p) for p in ini)]


def registered_workflows(config: pytest.Config) -> list[type]:
    """Workflow classes from every loaded plugin/conftest module's ``REPLAY_WORKFLOWS``."""
    found: list[type] = []
    for plugin in config.pluginmanager.get_plugins():
        for cls in getattr(plugin, WORKFLOWS_ATTR, None) or ():
            if cls not in found:
                found.append(cls)
    return found


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    for directory in _history_dirs(config):
        collector = SavedHistories.from_parent(session, name=f"replay-histories:{directory}",
                                               directory=directory)
        items.extend(collector.collect())


class SavedHistories(pytest.Collector):
    """The histories under one directory, one item per file (sorted)."""

    def __init__(self, *, directory: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.directory = directory

    def collect(self) -> Iterator[HistoryReplayItem]:
        if not self.directory.is_dir():
            raise pytest.UsageError(f"--replay-histories: {self.directory} is not a directory")
        for path in sorted(self.directory.rglob("*.json")):
            yield HistoryReplayItem.from_parent(
                self, name=str(path.relative_to(self.directory)), path=path)


class HistoryReplayFailed(Exception):
    """A saved history did not replay; the message says why."""


class HistoryReplayItem(pytest.Item):
    """Replays one saved history file against the registered workflows."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.history_path = Path(self.path)

    def runtest(self) -> None:
        workflows = registered_workflows(self.config)
        if not workflows:
            raise HistoryReplayFailed(
                f"no workflows to replay {self.history_path.name} against: list the workflow "
                f"classes in {WORKFLOWS_ATTR} = [...] in a conftest.py")
        try:
            history = History.load(self.history_path)
            converter = configured_data_converter(self.config)
            result = Replayer(workflows=workflows, data_converter=converter).replay_sync(
                history, raise_on_replay_failure=False)
        except ReplayError as exc:
            raise HistoryReplayFailed(str(exc)) from exc
        if result.replay_failure is not None:
            raise HistoryReplayFailed(str(result.replay_failure))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, HistoryReplayFailed):
            return f"{self.history_path}: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.history_path, None, f"replay {self.history_path.name}"
