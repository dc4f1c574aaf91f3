# A first neuroshell script: replay it with `neuroshell examples/first-steps.nsh`
# or, from the prompt, `run examples/first-steps.nsh`.
set seed 42
set storage.flush_interval 500ms
get seed
echo neuroshell is ready
status
