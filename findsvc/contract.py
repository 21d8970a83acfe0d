"""The names the contract gives services, read from the generated descriptors, never typed."""

from __future__ import annotations

from grpc_health.v1 import health_pb2

from glarimy.ums.find.v1 import find_service_pb2

FIND_SERVICE = find_service_pb2.DESCRIPTOR.services_by_name["FindService"]
FIND_SERVICE_NAME = FIND_SERVICE.full_name  # glarimy.ums.find.v1.FindService
HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"]
