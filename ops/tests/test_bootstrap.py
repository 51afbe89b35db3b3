"""The idempotent steps of `make run`'s bootstrap that need no data or training."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from django.test import SimpleTestCase, override_settings

from accounts.models import Tier, User
from explanations.models import Document, DocumentSource
from ops.management.commands.bootstrap import Command
from testkit import BaseTestCase


class BootstrapTestCase(BaseTestCase):
    def command(self) -> tuple[Command, io.StringIO]:
        out = io.StringIO()
        return Command(stdout=out), out

    def test_it_creates_the_operator_once_and_keeps_its_password(self) -> None:
        with self.settings(VAR_DIR=self._tmp()):
            command, out = self.command()
            command.operator_account()
            operator = User.objects.get(username="operator")
            self.assertTrue(operator.is_superuser)
            self.assertEqual(operator.tier, Tier.ENTERPRISE)
            password = out.getvalue().split("password=")[1].split()[0]
            self.assertTrue(operator.check_password(password))

            again, out = self.command()
            again.operator_account()
            operator.refresh_from_db()
            self.assertTrue(operator.check_password(password))
            self.assertIn("exists", out.getvalue())

    @override_settings(KB_TRANSCRIPTS_LIMIT=0)
    def test_it_queues_all_transcripts_when_the_limit_is_zero(self) -> None:
        command, _ = self.command()
        commands = dict(command.knowledge_base_commands())
        self.assertNotIn("--limit", commands[DocumentSource.TRANSCRIPT])
        self.assertIn("--no-wait", commands[DocumentSource.PATTERN])

    def test_it_does_not_queue_a_source_that_has_documents_but_resumes_transcripts(self) -> None:
        for source in (DocumentSource.PATTERN, DocumentSource.TRANSCRIPT):
            Document.objects.create(source=source, external_id="x", title="x", content_hash="x")
        command, _ = self.command()
        queued: list[list[str]] = []

        def record(*args: str) -> str:  # instead of running
            queued.append(list(args))
            return ""

        command.quiet = record  # type: ignore[assignment]
        command.queue_knowledge_base()
        self.assertEqual([q[2] for q in queued], ["transcripts"])
        # The chain that indexes every missing transcript in the background (0 = no limit).
        self.assertEqual(queued[0][3:5], ["--mode", "background"])
        self.assertNotIn("--limit", queued[0])

    @override_settings(REPLAY_START_DATE="2024-07-10")
    def test_it_labels_the_regimes_of_the_replayed_days_after_loading_the_index(self) -> None:
        command, _ = self.command()
        steps = [args for _, args in command.data_commands()]
        index_step = steps.index(["ingest", "--provider", "replay", "--index", "--once"])
        regime_step = next(i for i, args in enumerate(steps) if args[0] == "regimes")
        self.assertGreater(regime_step, index_step)  # the HMM reads the index bars
        self.assertEqual(steps[regime_step][1:], ["--from-year", "2024"])

    def _tmp(self) -> Path:
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        return Path(directory.name)


class StepReportTests(SimpleTestCase):
    def test_it_says_when_a_step_found_its_work_done(self) -> None:
        out = io.StringIO()
        command = Command(stdout=out)

        command.step("models", lambda: '{"kind": "normal", "skipped": true}')
        command.step("prices", lambda: '{"inserted": 10}')

        lines = out.getvalue().splitlines()
        self.assertTrue(lines[1].startswith("   already there in "))
        self.assertTrue(lines[3].startswith("   done in "))
