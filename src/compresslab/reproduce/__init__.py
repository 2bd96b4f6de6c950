"""Resumable paper reproductions: ``compresslab-reproduce <paper>``.

A paper's reproduction is a plan (``papers/<paper>.yaml``): ordered stages of ``compresslab-train`` runs, written
as the overrides of a Hydra multirun. :mod:`.plan` expands a plan into runs and gives each its run directory and
config identity, :mod:`.identity` decides whether a run is done, partial or missing, :mod:`.runner` runs what is
left (resuming partial runs from ``last.ckpt``), shows progress and the ``--status`` view, and :mod:`.cli` is the
command line.
"""
