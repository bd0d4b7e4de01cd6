"""GBNF grammars (llama.cpp's format) for the JSON that the `graph` and `flow` strategies ask for.

Hand-written rather than generated from a JSON schema: they stay small (a few rules, so the
constrained sampler stays fast), the node count is bounded, and whitespace is bounded so a tiny
model cannot loop on blanks. Ids are identifiers; whether they refer to real nodes is checked by
the validator afterwards (a grammar cannot), and repair works as without a grammar.
"""

from __future__ import annotations

from .spec import ANSWER_KINDS

_COMMON = r'''
id ::= "\"" [A-Za-z_] [A-Za-z0-9_]{0,23} "\""
text ::= "\"" char+ "\""
char ::= [^"\\\x00-\x1f] | "\\" ["\\/nt]
ws ::= [ \n]{0,4}
'''


def _repeat(item: str, at_most: int) -> str:
    """`item` one to `at_most` times, comma-separated."""
    more = max(0, at_most - 1)
    return f'{item} (ws "," ws {item}){{0,{more}}}' if more else item


def graph_grammar(max_nodes: int = 8) -> str:
    """`{"nodes": [{"id": …, "ask": …, "after": [ids]}, …], "output": id}` with 1…max_nodes nodes."""
    n = max(1, int(max_nodes))
    return (
        f'root ::= "{{" ws "\\"nodes\\":" ws "[" ws {_repeat("node", n)} ws "]" ws "," ws '
        '"\\"output\\":" ws id ws "}"\n'
        'node ::= "{" ws "\\"id\\":" ws id ws "," ws "\\"ask\\":" ws text ws "," ws '
        '"\\"after\\":" ws ids ws "}"\n'
        f'ids ::= "[" ws ({_repeat("id", n)})? ws "]"\n'
        + _COMMON
    )


def flow_grammar(max_steps: int = 8) -> str:
    """`{"steps": [...]}` with ask / compute / branch / output steps, as the flow prompt shows them."""
    n = max(1, int(max_steps))
    kinds = " | ".join(f'"\\"{k}\\""' for k in ANSWER_KINDS)
    return (
        f'root ::= "{{" ws "\\"steps\\":" ws "[" ws {_repeat("step", n)} ws "]" ws "}}"\n'
        'step ::= "{" ws "\\"id\\":" ws id ws "," ws (ask | compute | branch | output) ws "}"\n'
        'ask ::= "\\"ask\\":" ws text ws "," ws "\\"answer\\":" ws kind ws "," ws "\\"set\\":" ws id\n'
        f'kind ::= {kinds}\n'
        'compute ::= "\\"compute\\":" ws "{" ws assign (ws "," ws assign){0,3} ws "}"\n'
        'assign ::= id ws ":" ws text\n'
        'branch ::= "\\"branch\\":" ws text ws "," ws "\\"then\\":" ws id ws "," ws "\\"else\\":" ws id\n'
        'output ::= "\\"output\\":" ws text\n'
        + _COMMON
    )
