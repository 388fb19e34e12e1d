"""The greeting workflow from the message-passing guide, with an activity.

Only the imports differ from the familiar SDK's sample.
"""

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from enum import IntEnum

from replay import activity, workflow
from replay.exceptions import ApplicationError


class Language(IntEnum):
    CHINESE = 1
    ENGLISH = 2
    FRENCH = 3
    SPANISH = 4


@dataclass
class ApproveInput:
    name: str


@activity.defn
async def call_greeting_service(to_language: Language) -> str | None:
    await asyncio.sleep(0.5)  # a slow remote service: the demo kills the worker meanwhile
    greetings = {Language.ENGLISH: "Hello, world", Language.FRENCH: "Bonjour, monde",
                 Language.SPANISH: "Hola, mundo"}
    return greetings.get(to_language)


@workflow.defn
class GreetingWorkflow:
    def __init__(self) -> None:
        self.approved_for_release = False
        self.approver_name: str | None = None
        self.language = Language.ENGLISH
        self.greetings = {Language.ENGLISH: "Hello, world"}
        self.lock = asyncio.Lock()

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.approved_for_release)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return f"{self.greetings[self.language]} (approved by {self.approver_name})"

    @workflow.query
    def get_language(self) -> Language:
        return self.language

    @workflow.signal
    def approve(self, input: ApproveInput) -> None:
        self.approved_for_release = True
        self.approver_name = input.name

    @workflow.update
    async def set_language(self, language: Language) -> Language:
        async with self.lock:
            if language not in self.greetings:
                greeting = await workflow.execute_activity(
                    call_greeting_service, language,
                    start_to_close_timeout=timedelta(seconds=2))
                if greeting is None:
                    raise ApplicationError(f"greeting service does not support {language.name}")
                self.greetings[language] = greeting
            previous_language, self.language = self.language, language
            return previous_language

    @set_language.validator
    def validate_language(self, language: Language) -> None:
        if language not in Language:
            raise ValueError(f"{language} is not a language")
