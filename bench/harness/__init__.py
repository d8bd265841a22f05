"""The side-by-side benchmark harness behind bench/run.py (issue 6; see bench/README.md,
Performance). Standard library only, Python 3.11 (Debian 12).

  settings.py  options and environment -> Settings; the scenario x server matrix
  common.py    messages, /proc readings, loopback HTTP probes, the results file, Run
  servers.py   starting and stopping stagepass, the HTTP ceiling and the peers
  pair.py      one row of the table: probes, single-use pools, wrk runs, CPU and RSS
"""
