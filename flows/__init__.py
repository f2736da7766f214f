"""What a flow is, below every layer that runs one: the flow model and its checks (graph,
limits, node configs, the static half of templating), and the Temporal contract any client
starts and answers executions by (type names, task queue, inputs, updates, search
attributes). Nothing here imports activity or workflow code, so the gateway can start and
answer workflows by name without loading the worker."""
