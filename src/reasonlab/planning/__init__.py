"""Planning with a sound verifier (PlanBench, LLM-Modulo, verifier-guided search).

Modules: `pddl` (load PDDL, errors with file and line, STRIPS view), `task` (the `PlanningTask` a
planning Problem carries, parsed once), `blocksworld` (domain and seeded generator), `mystery`
(renamed domains), `render` (PlanBench-style prompts), `grammar` (GBNF from the PDDL), `parse`
(model output -> grounded actions), `validate` (pddl-pyvalidator verdicts and critiques),
`simulate` (states, applicable actions, smooth metrics), `planner` (Fast Downward / pyperplan
ground truth), `modulo` (the generate-validate-critique loop), `guided` (the verifier-guided
search and its random control), `builtin` (ready-made problems). The planning report lives in
`reasonlab.eval.plan_report` (it reads evaluation stores).
"""
