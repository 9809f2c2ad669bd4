"""Flux's notification endpoints, one module per Flux package, named after its last path segment.

``from flux_magic.endpoints import slack, pagerduty, teams`` and then, as in Flux,
``slack.endpoint(token=...)(lambda r: {"channel": ..., "text": ..., "color": ...})(df)``: one
POST per row whose body is byte for byte what the Flux package sends for that record, with
Flux's headers, truncation, mappings and validation. Every sender has ``preview``, the
sending options (``rate``, ``retries``, ``concurrency``, ...) and masks its secrets.

======================  ==========================================
module                  Flux package
======================  ==========================================
``slack``               ``slack``
``pagerduty``           ``pagerduty``
``pushbullet``          ``pushbullet``
``teams``               ``contrib/sranka/teams``
``opsgenie``            ``contrib/sranka/opsgenie``
``telegram``            ``contrib/sranka/telegram``
``webexteams``          ``contrib/sranka/webexteams``
``sensu``               ``contrib/sranka/sensu``
``discord``             ``contrib/chobbs/discord``
``servicenow``          ``contrib/bonitoo-io/servicenow``
``victorops``           ``contrib/bonitoo-io/victorops``
``alerta``              ``contrib/bonitoo-io/alerta``
``zenoss``              ``contrib/bonitoo-io/zenoss``
``bigpanda``            ``contrib/rhajek/bigpanda``
``http``                ``http`` (``basicAuth``, ``pathEscape``, ``endpoint``)
``monitor``             ``influxdata/influxdb/monitor`` (``notify``)
======================  ==========================================

``flux_magic.endpoints.registry()`` describes them all (config fields, defaults, docs and a
mapping template), for front ends that offer a choice of endpoint.
"""

from __future__ import annotations

from flux_magic.endpoints._registry import REQUIRED, EndpointSpec, Field, registry

__all__ = ["REQUIRED", "EndpointSpec", "Field", "registry"]
