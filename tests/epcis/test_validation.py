"""EPCIS document validation: the official JSON schema plus CBV and GS1 checks.

Every GS1 example document must validate cleanly; every document in the openepcis Invalid
capture folder must be rejected with an error naming the offending field.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

from truyxuat.epcis.validation import (
    SCHEMA_ENV,
    EpcisValidator,
    is_epcis_time,
    is_time_zone_offset,
    load_schema,
)
from truyxuat.epcis.vocabulary import BIZ_STEP, cbv_term_known
from truyxuat.errors import FieldError, ValidationFailed

SHARED_DATA = Path(
    os.environ.get("TRUYXUAT_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)
SCHEMA_PATH = SHARED_DATA / "epcis" / "EPCIS-JSON-Schema-2.0.1.json"
VALID_DIR = SHARED_DATA / "epcis" / "JSON"
INVALID_DIR = SHARED_DATA / "epcis-openepcis" / "JSON" / "Capture" / "Invalid"

# Example files that are not capture documents, with the reason they are skipped.
NOT_CAPTURE_DOCUMENTS = {
    "EPCISQueryDocument.jsonld": "a query result document, not an EPCISDocument to capture",
}


def _examples(folder: Path) -> list[Path]:
    """The JSON and JSON-LD files under a folder, recursively, in a stable order."""
    return sorted(p for p in folder.rglob("*") if p.suffix in (".json", ".jsonld"))


VALID_EXAMPLES = [p for p in _examples(VALID_DIR) if p.name not in NOT_CAPTURE_DOCUMENTS]
INVALID_EXAMPLES = _examples(INVALID_DIR)


@pytest.fixture(scope="module")
def validator() -> EpcisValidator:
    """A validator built from the ratified GS1 schema in the shared data."""
    return EpcisValidator(load_schema(SCHEMA_PATH))


def _doc(*events: dict[str, Any]) -> dict[str, Any]:
    """A minimal EPCISDocument holding the given events."""
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-07-22T10:30:00Z",
        "epcisBody": {"eventList": list(events)},
    }


def _object_event(**fields: Any) -> dict[str, Any]:
    """A valid ObjectEvent, with fields added or replaced (None removes a field)."""
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": "2026-07-22T06:45:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "action": "OBSERVE",
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
        "bizStep": "shipping",
        "disposition": "in_transit",
    }
    event.update(fields)
    return {k: v for k, v in event.items() if v is not None}


def _errors(validator: EpcisValidator, *events: dict[str, Any]) -> list[FieldError]:
    """The errors of a document made of the given events."""
    with pytest.raises(ValidationFailed) as caught:
        validator.validate_document(_doc(*events))
    return caught.value.errors


def _locs(errors: list[FieldError]) -> list[list[str | int]]:
    """The locs of a list of errors."""
    return [e.loc for e in errors]


def test_example_folders_are_present() -> None:
    assert len(VALID_EXAMPLES) >= 40
    assert len(INVALID_EXAMPLES) >= 10


@pytest.mark.parametrize("path", VALID_EXAMPLES, ids=lambda p: p.name)
def test_every_gs1_example_document_validates(validator: EpcisValidator, path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert validator.document_errors(doc) == []


@pytest.mark.parametrize("path", INVALID_EXAMPLES, ids=lambda p: p.name)
def test_every_invalid_openepcis_document_is_rejected_naming_a_field(
    validator: EpcisValidator, path: Path
) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    with pytest.raises(ValidationFailed) as caught:
        validator.validate_document(doc)
    assert caught.value.errors
    assert caught.value.errors[0].loc
    assert isinstance(caught.value.errors[0].loc[-1], str)  # names a field, not just an event


def test_valid_minimal_document_passes(validator: EpcisValidator) -> None:
    validator.validate_document(_doc(_object_event()))
    validator.validate_event(_object_event(), 0)


def test_rejects_unknown_bare_biz_step(validator: EpcisValidator) -> None:
    errors = _errors(validator, _object_event(), _object_event(bizStep="transforming"))
    assert errors[0].loc == ["epcisBody", "eventList", 1, "bizStep"]
    assert errors[0].params == {"value": "transforming"}


@pytest.mark.parametrize(
    "biz_step",
    [
        "shipping",
        "https://ref.gs1.org/cbv/BizStep-shipping",
        "cbv:BizStep-shipping",
        "https://example.com/bizStep/harvesting",
        "urn:vn:truyxuat:bizstep:spraying",
    ],
)
def test_accepts_cbv_terms_in_every_form_and_user_uris(
    validator: EpcisValidator, biz_step: str
) -> None:
    validator.validate_document(_doc(_object_event(bizStep=biz_step)))


@pytest.mark.parametrize(
    "biz_step",
    [
        "https://ref.gs1.org/cbv/BizStep-harvesting",
        "urn:epcglobal:cbv:bizstep:harvesting",
        "urn:epcglobal:cbv:disp:in_transit",
        "urn:epcglobal:cbv:bizstep:shipping",  # CBV 1.x URNs: the JSON schema refuses them
        "https://ref.gs1.org/cbv/Disp-in_transit",
    ],
)
def test_rejects_unknown_terms_in_the_gs1_namespace(
    validator: EpcisValidator, biz_step: str
) -> None:
    errors = _errors(validator, _object_event(bizStep=biz_step))
    assert errors[0].loc == ["epcisBody", "eventList", 0, "bizStep"]


def test_rejects_unknown_disposition_and_persistent_disposition(
    validator: EpcisValidator,
) -> None:
    event = _object_event(
        disposition="in_transport", persistentDisposition={"set": ["active", "frozen"]}
    )
    locs = _locs(_errors(validator, event))
    assert ["epcisBody", "eventList", 0, "disposition"] in locs
    assert ["epcisBody", "eventList", 0, "persistentDisposition", "set", 1] in locs


def test_rejects_unknown_biz_transaction_source_and_error_reason_types(
    validator: EpcisValidator,
) -> None:
    event = _object_event(
        bizTransactionList=[{"type": "purchase", "bizTransaction": "urn:epcglobal:cbv:bt:1:2"}],
        sourceList=[{"type": "place", "source": "urn:epc:id:sgln:0614141.07346.0"}],
        destinationList=[{"type": "owning_party", "destination": "urn:epc:id:pgln:0614141.00001"}],
        errorDeclaration={"declarationTime": "2026-07-23T06:45:00Z", "reason": "typo"},
    )
    locs = _locs(_errors(validator, event))
    prefix: list[str | int] = ["epcisBody", "eventList", 0]
    assert [*prefix, "bizTransactionList", 0, "type"] in locs
    assert [*prefix, "sourceList", 0, "type"] in locs
    assert [*prefix, "errorDeclaration", "reason"] in locs
    assert [*prefix, "destinationList", 0, "type"] not in locs


def test_rejects_event_time_without_time_zone(validator: EpcisValidator) -> None:
    errors = _errors(validator, _object_event(eventTime="2026-07-22T06:45:00"))
    assert errors[0].loc == ["epcisBody", "eventList", 0, "eventTime"]


def test_rejects_record_time_in_wrong_format(validator: EpcisValidator) -> None:
    errors = _errors(validator, _object_event(recordTime="22-07-2026"))
    assert errors[0].loc == ["epcisBody", "eventList", 0, "recordTime"]


def test_rejects_missing_time_zone_offset(validator: EpcisValidator) -> None:
    errors = _errors(validator, _object_event(eventTimeZoneOffset=None))
    assert ["epcisBody", "eventList", 0, "eventTimeZoneOffset"] in _locs(errors)


@pytest.mark.parametrize("offset", ["+7:00", "07:00", "+15:00", "+14:30", "+07:60", "Z"])
def test_rejects_malformed_time_zone_offset(validator: EpcisValidator, offset: str) -> None:
    errors = _errors(validator, _object_event(eventTimeZoneOffset=offset))
    assert errors[0].loc == ["epcisBody", "eventList", 0, "eventTimeZoneOffset"]


def test_time_helpers() -> None:
    assert is_epcis_time("2026-07-22T06:45:00.123456789Z")
    assert is_epcis_time("2026-07-22T06:45:00-05:00")
    assert not is_epcis_time("2026-02-30T06:45:00Z")
    assert not is_epcis_time("2026-07-22 06:45:00Z")
    assert is_time_zone_offset("-14:00")
    assert not is_time_zone_offset("+14:01")


def test_rejects_malformed_sgtin_urn(validator: EpcisValidator) -> None:
    # An EPC URN carries no check digit: a GTIN rebuilt from it must have 13 digits + check.
    event = _object_event(epcList=["urn:epc:id:sgtin:0614141.10734.2017"])
    errors = _errors(validator, event)
    assert errors[0].loc == ["epcisBody", "eventList", 0, "epcList", 0]
    assert errors[0].params["digits"] == 13


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("parentID", "urn:epc:id:sscc:0614141.123456789"),
        ("parentID", "urn:epc:id:sgtin:0614141.107346"),
        ("parentID", "urn:epc:id:sgtin:0614141.107346.serial with space"),
        ("parentID", "urn:epc:id:sgln:0614141.07346"),
    ],
)
def test_rejects_malformed_epc_urns(validator: EpcisValidator, field: str, value: str) -> None:
    errors = _errors(validator, _object_event(**{field: None}, epcList=[value]))
    assert errors[0].loc == ["epcisBody", "eventList", 0, "epcList", 0]


def test_rejects_bad_gtin_check_digit_in_digital_link(validator: EpcisValidator) -> None:
    event = _object_event(epcList=["https://id.gs1.org/01/09521141012346/21/2017"])
    errors = _errors(validator, event)
    assert errors[0].loc == ["epcisBody", "eventList", 0, "epcList", 0]
    assert errors[0].params["expected"] == 5


def test_rejects_bad_sscc_and_gln_check_digits_in_digital_links(
    validator: EpcisValidator,
) -> None:
    event = _object_event(
        epcList=["https://id.gs1.org/00/106141411234567890"],
        bizLocation={"id": "https://id.gs1.org/414/9521321000011/254/1"},
    )
    locs = _locs(_errors(validator, event))
    assert ["epcisBody", "eventList", 0, "epcList", 0] in locs
    assert ["epcisBody", "eventList", 0, "bizLocation", "id"] in locs


def test_rejects_bad_lot_in_digital_link_class(validator: EpcisValidator) -> None:
    event = _object_event(
        epcList=None,
        quantityList=[
            {"epcClass": "https://id.gs1.org/01/09521141012345/10/" + "L" * 21, "quantity": 5}
        ],
    )
    errors = _errors(validator, event)
    assert errors[0].loc == ["epcisBody", "eventList", 0, "quantityList", 0, "epcClass"]


def test_accepts_valid_gs1_keys_and_other_uris(validator: EpcisValidator) -> None:
    event = _object_event(
        epcList=[
            "https://id.gs1.org/01/09521141012345/21/2017",
            "https://example.com/01/09521141012345/21/2017",
            "https://example.com/products/01/not-a-gtin",
            "urn:epc:id:sgtin:0614141.107346.2017",
            "urn:epc:id:sscc:0614141.1234567890",
            "urn:epc:id:grai:0614141.12345.400",
        ],
        readPoint={"id": "urn:epc:id:sgln:0614141.07346.1234"},
    )
    validator.validate_document(_doc(event))


def test_rejects_bad_uom_and_uom_without_quantity(validator: EpcisValidator) -> None:
    event = _object_event(
        epcList=None,
        quantityList=[
            {"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 2, "uom": "kg"},
            {"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "uom": "KGM"},
        ],
    )
    locs = _locs(_errors(validator, event))
    assert ["epcisBody", "eventList", 0, "quantityList", 0, "uom"] in locs
    assert ["epcisBody", "eventList", 0, "quantityList", 1, "quantity"] in locs


def test_rejects_unknown_measurement_type(validator: EpcisValidator) -> None:
    event = _object_event(
        sensorElementList=[{"sensorReport": [{"type": "Temprature", "value": 4, "uom": "CEL"}]}]
    )
    errors = _errors(validator, event)
    assert errors[0].loc == [
        "epcisBody",
        "eventList",
        0,
        "sensorElementList",
        0,
        "sensorReport",
        0,
        "type",
    ]


def test_rejects_aggregation_add_without_parent(validator: EpcisValidator) -> None:
    event = {
        "type": "AggregationEvent",
        "eventTime": "2026-07-22T06:45:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "action": "ADD",
        "childEPCs": ["urn:epc:id:sgtin:0614141.107346.2017"],
    }
    errors = _errors(validator, event)
    assert errors[0].loc == ["epcisBody", "eventList", 0, "parentID"]
    observe = copy.deepcopy(event) | {"action": "OBSERVE"}
    validator.validate_document(_doc(observe))


def test_rejects_missing_action_and_unknown_event_type(validator: EpcisValidator) -> None:
    locs = _locs(_errors(validator, _object_event(action=None), {"type": "HarvestEvent"}))
    assert ["epcisBody", "eventList", 0, "action"] in locs
    assert ["epcisBody", "eventList", 1, "type"] in locs


def test_rejects_ilmd_unless_action_is_add(validator: EpcisValidator) -> None:
    event = _object_event(ilmd={"https://example.com/harvestArea": "A1"})
    errors = _errors(validator, event)
    assert errors[0].loc == ["epcisBody", "eventList", 0, "ilmd"]
    validator.validate_document(_doc(_object_event(action="ADD", ilmd=event["ilmd"])))


def test_validate_event_points_at_its_place_in_the_list(validator: EpcisValidator) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validator.validate_event(_object_event(bizStep="harvest"), 7)
    assert caught.value.errors[0].loc == ["epcisBody", "eventList", 7, "bizStep"]


def test_load_schema_reads_the_configured_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SCHEMA_ENV, str(SCHEMA_PATH))
    assert load_schema()["$schema"].startswith("http://json-schema.org/draft-07")
    monkeypatch.delenv(SCHEMA_ENV)
    with pytest.raises(FileNotFoundError):
        load_schema()


AGREEMENT_EXAMPLES = VALID_EXAMPLES + INVALID_EXAMPLES + _examples(INVALID_DIR.parent / "Documents")


@pytest.mark.parametrize("path", AGREEMENT_EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_compiled_schema_check_agrees_with_jsonschema(path: Path) -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    schema = load_schema(SCHEMA_PATH)
    validator = EpcisValidator(schema)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(validator._fast, jsonschema_rs.Draft7Validator)
    slow = list(validator._document.iter_errors(doc))
    assert validator._fast.is_valid(doc) == (not slow)


def test_without_compiled_validator_invalid_documents_still_fail(
    validator: EpcisValidator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(validator, "_fast", None)
    errors = _errors(validator, _object_event(action="CREATE"))
    assert errors[0].loc == ["epcisBody", "eventList", 0, "action"]
    validator.validate_document(_doc(_object_event()))


def test_rejects_invalid_action_with_one_clear_error(validator: EpcisValidator) -> None:
    errors = _errors(validator, _object_event(action="CREATE"))
    assert [e.loc for e in errors] == [["epcisBody", "eventList", 0, "action"]]


def test_rejects_events_that_name_no_object(validator: EpcisValidator) -> None:
    transformation = {
        "type": "TransformationEvent",
        "eventTime": "2026-07-22T06:45:00+07:00",
        "eventTimeZoneOffset": "+07:00",
    }
    aggregation = {
        "type": "AggregationEvent",
        "eventTime": "2026-07-22T06:45:00+07:00",
        "eventTimeZoneOffset": "+07:00",
        "action": "ADD",
        "parentID": "urn:epc:id:sscc:0614141.1234567890",
    }
    locs = _locs(_errors(validator, _object_event(epcList=None), transformation, aggregation))
    assert ["epcisBody", "eventList", 0, "epcList"] in locs
    assert ["epcisBody", "eventList", 1, "inputEPCList"] in locs
    assert ["epcisBody", "eventList", 2, "childEPCs"] in locs


@pytest.mark.parametrize(
    ("value", "known"),
    [
        ("shipping", True),
        ("urn:epcglobal:cbv:bizstep:shipping", True),
        ("https://ref.gs1.org/cbv/BizStep-shipping", True),
        ("https://ref.gs1.org/cbv/Disp-in_transit", False),
        ("harvesting", False),
        ("gs1:shipping", False),
        ("https://example.com/bizstep/harvesting", None),
    ],
)
def test_cbv_term_forms(value: str, known: bool | None) -> None:
    assert cbv_term_known(value, BIZ_STEP) is known
