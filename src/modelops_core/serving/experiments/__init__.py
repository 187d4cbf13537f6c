"""A/B experiments on served models: two aliases of one model split by the traffic table, the
outcomes (feedback) of the units they answered, and the analysis that decides between them.

One job per module: ``definition`` (what an experiment is: arms, metrics, guardrails),
``store`` (experiments and feedback in the serving database), ``feedback`` (records from
``POST /v1/feedback`` or a file), ``stats`` (sample-ratio check, intervals, mSPRT, CUPED,
guardrail bootstrap, power), ``analysis`` (the decision), ``report`` (HTML), ``errors``.
"""
