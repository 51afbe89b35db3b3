"""Live rollout of model versions (issue 22): shadow runs, canary split, rollback on live
accuracy. ``split`` (which symbols a canary serves), ``compare`` (two versions' realised live
figures on the same symbol-days), ``stages`` (the state machine and its decisions), ``plans``
(what the live cycle runs), ``report`` (``manage.py models status``)."""
