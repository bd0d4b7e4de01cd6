"""`reasonlab chat`: an interactive terminal chat with history, on any strategy."""

from __future__ import annotations

import sys
import threading
from typing import Any

import click

from ._common import model_option, no_cache_option, parse_kv
from .live_output import LivePrinter

HELP = """commands:
  /strategy NAME     switch strategy (no NAME: show the current one)
  /strategies        list strategies
  /option KEY=VALUE  set a strategy option (/options shows them; /option KEY= clears one)
  /model SPEC        switch model
  /reset             forget the conversation
  /history           show the conversation
  /trace             show the last answer's model calls
  /calls on|off      show model calls as they happen
  /help              this text
  /quit              leave (Ctrl-D too; Ctrl-C cancels a running answer)"""


class ChatSession:
    """State of one terminal chat: model, strategy, options, history, last result."""

    def __init__(self, model: str, strategy: str, options: dict[str, str], cache: Any, seed: int,
                 show_calls: bool, stream: bool = True) -> None:
        from ..models import load_model

        self.model_spec = model
        self.model = load_model(model)
        self.strategy = strategy
        self.options = dict(options)
        self.cache = cache
        self.seed = seed
        self.show_calls = show_calls
        self.stream = stream
        self.messages: list[dict[str, str]] = []
        self.last = None
        self.make_strategy()  # fail early on a bad strategy or option

    def make_strategy(self, strategy: str | None = None, options: dict[str, str] | None = None):
        from ..strategies import get_strategy
        from ..strategies.options import validate

        name = strategy or self.strategy
        opts = self.options if options is None else options
        return get_strategy(name, **validate(name, opts))  # the same checks as `ask -o` and the server

    # -- commands ---------------------------------------------------------------------------
    def command(self, line: str) -> bool:
        """Run a /command; False means quit."""
        from ..errors import ReasonlabError

        name, _, arg = line[1:].strip().partition(" ")
        arg = arg.strip()
        try:
            return self._command(name.lower(), arg)
        except ReasonlabError as e:
            click.echo(f"error: {e}")
        except click.BadParameter as e:
            click.echo(f"error: {e.message}")
        return True

    def _command(self, name: str, arg: str) -> bool:
        from ..models import load_model
        from ..strategies import describe_options, list_strategies

        if name in ("quit", "exit", "q"):
            return False
        if name in ("help", "h", "?"):
            click.echo(HELP)
        elif name == "strategy":
            if arg:
                self.make_strategy(arg, {})  # options belong to a strategy: start fresh
                self.strategy, self.options = arg, {}
            click.echo(f"strategy: {self.strategy}")
        elif name == "strategies":
            for s, cls in list_strategies().items():
                click.echo(f"  {s}: {cls.description}")
        elif name == "option" and not arg.strip():
            click.echo("usage: /option KEY=VALUE (set), /option KEY= (back to the default); /options lists them")
        elif name == "option":
            opts = dict(self.options)
            for k, v in parse_kv((arg,)).items():
                if v == "":
                    opts.pop(k, None)
                else:
                    opts[k] = v
            self.make_strategy(options=opts)
            self.options = opts
            click.echo(f"options: {self.options or '(defaults)'}")
        elif name == "options":
            strat = self.make_strategy()
            click.echo(f"options of {self.strategy} (current values):")
            for o in describe_options(type(strat).Options):
                now = getattr(strat.options, o["name"], o["default"])
                note = "" if now == o["default"] else f" (default {o['default']!r})"
                click.echo(f"  {o['name']} = {now!r}{note}: {o['help']}")
        elif name == "model":
            if arg:
                new = load_model(arg)
                self.model.close()
                self.model, self.model_spec = new, arg
            click.echo(f"model: {self.model_spec}")
        elif name == "reset":
            self.messages.clear()
            click.echo("(conversation cleared)")
        elif name == "history":
            for m in self.messages:
                click.echo(f"{m['role']}: {m['content']}")
        elif name == "trace":
            self.print_trace()
        elif name == "calls":
            self.show_calls = arg.lower() not in ("off", "0", "no", "false")
            click.echo(f"calls shown: {'on' if self.show_calls else 'off'}")
        else:
            click.echo(f"unknown command /{name} (try /help)")
        return True

    def print_trace(self) -> None:
        if self.last is None:
            click.echo("(no answer yet)")
            return
        for c in self.last.calls:
            click.echo(f"--- call {c.id} [{c.label}] sample {c.sample_index}{' (cached)' if c.cached else ''}")
            click.echo(c.output.strip())

    # -- asking -----------------------------------------------------------------------------
    def ask(self, text: str) -> None:
        from ..api import run
        from ..context import Cancelled
        from ..conversation import problem_from_messages
        from ..errors import ReasonlabError

        messages = [*self.messages, {"role": "user", "content": text}]
        problem = problem_from_messages(messages)
        strategy = self.make_strategy()
        cancel = threading.Event()
        box: dict[str, Any] = {}

        show = LivePrinter(stream=self.stream, calls=self.show_calls)

        done = threading.Event()

        def work() -> None:
            try:
                box["result"] = run(problem, strategy, self.model, cache=self.cache, seed=self.seed,
                                    listeners=[show], cancel=cancel)
            except BaseException as e:  # noqa: BLE001 - reported by the main thread
                box["error"] = e
            finally:
                done.set()

        # The run happens in a thread so Ctrl-C (which only the main thread sees) can cancel it.
        # Wait on an Event, not Thread.join: an interrupted join can leave the thread looking finished.
        threading.Thread(target=work, daemon=True).start()
        while not done.is_set():
            try:
                done.wait(0.1)
            except KeyboardInterrupt:
                if not cancel.is_set():
                    cancel.set()
                    show.finish()
                    click.echo("(cancelling…)")
        show.finish()
        err = box.get("error")
        if isinstance(err, Cancelled):  # the partial text stays on screen, not in the conversation
            click.echo("(cancelled) — not added to the conversation")
            return
        if isinstance(err, ReasonlabError):
            click.echo(f"error: {err}")
            return
        if err is not None:
            raise err
        result = box["result"]
        self.last = result
        answer = result.answer if result.answer is not None else (result.reasoning.strip() or "(no answer)")
        self.messages = [*messages, {"role": "assistant", "content": answer}]
        click.echo(f"{click.style('reasonlab>', fg='green', bold=True)} {answer}")
        for line in vote_lines(result.details):
            click.echo(line)
        u = result.usage
        click.echo(click.style(f"  [{result.strategy}: {u.calls} call{'' if u.calls == 1 else 's'}, {u.prompt_tokens}+{u.completion_tokens} "
                               f"tokens, {u.seconds:.2f}s{'; ' + result.note if result.note else ''}]", dim=True))


def vote_lines(details: dict[str, Any]) -> list[str]:
    """The vote of a sampling strategy as bars: one line per answer (winner marked, weights if any)."""
    votes = details.get("votes") if isinstance(details, dict) else None
    if not isinstance(votes, dict) or not votes:
        return []
    weights = details.get("weights") or {}
    total = sum(float(v) for v in votes.values()) or 1.0
    lines = ["  vote:"]
    for key, count in sorted(votes.items(), key=lambda kv: -float(weights.get(kv[0], kv[1]))):
        bar = "█" * max(1, round(20 * float(count) / total))
        weight = f"  weight {float(weights[key]):.3g}" if key in weights else ""
        mark = "  ← winner" if key == details.get("winner") else ""
        lines.append(f"    {str(key)[:30]:>12} {bar} {count:g}{weight}{mark}")
    return lines


@click.command()
@click.option("--strategy", "-s", default="zero-shot-cot", show_default=True,
              help="Reasoning strategy ('chat' sends the conversation to the model as it is).")
@model_option
@click.option("--option", "-o", "extra", multiple=True, metavar="KEY=VALUE", help="Strategy option (repeat).")
@click.option("--seed", type=int, default=0, show_default=True, help="Base sampling seed.")
@click.option("--calls/--no-calls", default=True, show_default=True, help="Show model calls as they happen.")
@click.option("--stream/--no-stream", default=True, show_default=True, help="Print model text as it is generated.")
@no_cache_option
def chat(strategy: str, model: str, extra: tuple[str, ...], seed: int, calls: bool, stream: bool,
         no_cache: bool) -> None:
    """Chat in the terminal; every answer goes through a reasoning strategy. /help lists commands."""
    from ._common import expect_batching, load_cache

    expect_batching(strategy, parse_kv(extra))  # --weights auto: k > 1 samples decode together
    try:
        import readline  # noqa: F401 - line editing and ↑ history for input()
    except ImportError:  # pragma: no cover - not on every platform
        pass
    session = ChatSession(model, strategy, parse_kv(extra), load_cache(no_cache), seed, calls, stream)
    click.echo(f"reasonlab chat — {strategy} on {model}. /help for commands, /quit to leave.")
    while True:
        try:
            line = input("you> ")
        except EOFError:
            click.echo()
            break
        except KeyboardInterrupt:
            click.echo()
            continue
        line = line.strip()
        if not line:
            continue
        if line.startswith("/"):
            if not session.command(line):
                break
            continue
        session.ask(line)
    sys.stdout.flush()


COMMANDS = [chat]
