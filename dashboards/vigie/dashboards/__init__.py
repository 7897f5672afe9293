"""Dashboards: Grafana as code (foundation SDK), provisioning, push by API, offline HTML report."""
