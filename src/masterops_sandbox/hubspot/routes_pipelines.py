"""Pipelines and stages: ``/crm/v3/pipelines/{objectType}[/{pipelineId}[/stages[/{stageId}]]]``.

Only deals have pipelines among the types the sandbox serves; other types are
HubSpot's 400. Creating answers 201, archiving 204; after any change the deal
``pipeline`` and ``dealstage`` properties accept exactly the live ids.
"""

from __future__ import annotations

from starlette.responses import Response

from masterops_sandbox.hubspot.endpoint import Call
from masterops_sandbox.hubspot.errors import empty_response, json_response, validation_error
from masterops_sandbox.hubspot.pipelines import Pipelines


def _pipelines(call: Call) -> Pipelines:
    if call.type.name != "deals":
        raise validation_error(f"Pipelines are not supported for object type {call.type.type_id}")
    return call.portal.pipelines


async def list_pipelines(call: Call) -> Response:
    return json_response({"results": [p.to_json() for p in _pipelines(call).live()]})


async def get_pipeline(call: Call) -> Response:
    return json_response(_pipelines(call).get(call.params["pipelineId"]).to_json())


async def create_pipeline(call: Call) -> Response:
    pipeline = _pipelines(call).create(await call.json_object(), call.now_ms())
    call.portal.refresh_pipeline_options()
    return json_response(pipeline.to_json(), 201)


async def update_pipeline(call: Call) -> Response:
    body = await call.json_object()
    pipeline = _pipelines(call).update(call.params["pipelineId"], body, call.now_ms())
    call.portal.refresh_pipeline_options()
    return json_response(pipeline.to_json())


async def replace_pipeline(call: Call) -> Response:
    body = await call.json_object()
    pipeline = _pipelines(call).replace(call.params["pipelineId"], body, call.now_ms())
    call.portal.refresh_pipeline_options()
    return json_response(pipeline.to_json())


async def archive_pipeline(call: Call) -> Response:
    _pipelines(call).archive(call.params["pipelineId"], call.now_ms())
    call.portal.refresh_pipeline_options()
    return empty_response(204)


async def list_stages(call: Call) -> Response:
    pipeline = _pipelines(call).get(call.params["pipelineId"])
    return json_response({"results": [s.to_json() for s in pipeline.live_stages()]})


async def get_stage(call: Call) -> Response:
    pipeline = _pipelines(call).get(call.params["pipelineId"])
    return json_response(pipeline.stage(call.params["stageId"]).to_json())


async def create_stage(call: Call) -> Response:
    body = await call.json_object()
    stage = _pipelines(call).add_stage(call.params["pipelineId"], body, call.now_ms())
    call.portal.refresh_pipeline_options()
    return json_response(stage.to_json(), 201)


async def update_stage(call: Call) -> Response:
    body = await call.json_object()
    pipelines = _pipelines(call)
    stage = pipelines.update_stage(
        call.params["pipelineId"], call.params["stageId"], body, call.now_ms()
    )
    call.portal.refresh_pipeline_options()
    return json_response(stage.to_json())


async def replace_stage(call: Call) -> Response:
    body = await call.json_object()
    stage = _pipelines(call).replace_stage(
        call.params["pipelineId"], call.params["stageId"], body, call.now_ms()
    )
    call.portal.refresh_pipeline_options()
    return json_response(stage.to_json())


async def archive_stage(call: Call) -> Response:
    _pipelines(call).archive_stage(call.params["pipelineId"], call.params["stageId"], call.now_ms())
    call.portal.refresh_pipeline_options()
    return empty_response(204)
