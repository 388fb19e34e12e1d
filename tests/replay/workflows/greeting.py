"""The message-passing guide's greeting sample, with only its imports changed."""

# ruff: noqa: UP045, E501  # the guide's code is kept as written (Optional, long lines)

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from enum import IntEnum
from typing import Optional

from replay import workflow
from replay.activity import defn as activity_defn


class Language(IntEnum):
    Chinese = 1
    English = 2
    French = 3
    Spanish = 4
    Portuguese = 5


@dataclass
class GetLanguagesInput:
    include_unsupported: bool


@dataclass
class ApproveInput:
    name: str


@activity_defn
async def call_greeting_service(to_language: Language) -> Optional[str]:
    greetings = {
        Language.English: "Hello, world",
        Language.Chinese: "你好,世界",
        Language.French: "Bonjour, monde",
    }
    return greetings.get(to_language)


@workflow.defn
class GreetingWorkflow:
    def __init__(self) -> None:
        self.approved_for_release = False
        self.approver_name: Optional[str] = None
        self.language = Language.English
        self.greetings = {
            Language.English: "Hello, world",
            Language.Chinese: "你好,世界",
        }

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.approved_for_release)
        return self.greetings[self.language]

    @workflow.query
    def get_languages(self, input: GetLanguagesInput) -> list[Language]:
        if input.include_unsupported:
            return list(Language)
        else:
            return list(self.greetings)

    @workflow.signal
    def approve(self, input: ApproveInput) -> None:
        self.approved_for_release = True
        self.approver_name = input.name

    @workflow.update
    def set_language(self, language: Language) -> Language:
        previous_language, self.language = self.language, language
        return previous_language

    @set_language.validator
    def validate_language(self, language: Language) -> None:
        if language not in self.greetings:
            raise ValueError(f"{language.name} is not supported")

    @workflow.query
    def get_language(self) -> Language:
        return self.language


@workflow.defn
class AsyncGreetingWorkflow:
    """The guide's async variant: an update handler that runs an activity under a lock."""

    def __init__(self) -> None:
        self.approved_for_release = False
        self.language = Language.English
        self.greetings = {Language.English: "Hello, world"}
        self.lock = asyncio.Lock()

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.approved_for_release)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.greetings[self.language]

    @workflow.signal
    def approve(self, input: ApproveInput) -> None:
        self.approved_for_release = True

    @workflow.update
    async def set_language(self, language: Language) -> Language:
        async with self.lock:
            if language not in self.greetings:
                greeting = await workflow.execute_activity(
                    call_greeting_service,
                    language,
                    start_to_close_timeout=timedelta(seconds=10),
                )
                if greeting is None:
                    raise workflow_application_error(f"Greeting service does not support {language.name}")
                self.greetings[language] = greeting
            previous_language, self.language = self.language, language
            return previous_language

    @workflow.query
    def get_language(self) -> Language:
        return self.language


def workflow_application_error(message: str) -> Exception:
    from replay.exceptions import ApplicationError

    return ApplicationError(message)
