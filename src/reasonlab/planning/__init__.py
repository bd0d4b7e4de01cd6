"""Planning with a sound verifier (PlanBench, LLM-Modulo).

Modules: `pddl` (load PDDL, errors with file and line, STRIPS view), `blocksworld` (domain and
seeded generator), `mystery` (renamed domains), `render` (PlanBench-style prompts), `parse`
(model output -> grounded actions), `validate` (pddl-pyvalidator verdicts and critiques),
`planner` (Fast Downward / pyperplan ground truth), `simulate` (smooth metrics), `modulo`
(the generate-validate-critique loop), `builtin` (ready-made problems), `report` (Markdown).
"""
