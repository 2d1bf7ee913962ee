"""Layer 1: the facts: models, validated loaders, vocabularies, the evaluators' coding."""
