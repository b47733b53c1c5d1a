"""CBV 2.0 vocabularies (business steps, dispositions, ...) and the ways their terms are written.

A CBV term may be written as a bare word (`shipping`, expanded by the EPCIS JSON-LD context),
as a GS1 Web URI (`https://ref.gs1.org/cbv/BizStep-shipping`), as a CURIE (`cbv:BizStep-shipping`)
or as a CBV 1.x URN (`urn:epcglobal:cbv:bizstep:shipping`). A user-defined term must be an
absolute URI outside the GS1 namespaces (CBV 2.0 section 6; EPCIS 2.0 section 7.3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BIZ_STEPS: frozenset[str] = frozenset(
    [
        "accepting",
        "arriving",
        "assembling",
        "collecting",
        "commissioning",
        "consigning",
        "creating_class_instance",
        "cycle_counting",
        "decommissioning",
        "departing",
        "destroying",
        "disassembling",
        "dispensing",
        "encoding",
        "entering_exiting",
        "holding",
        "inspecting",
        "installing",
        "killing",
        "loading",
        "other",
        "packing",
        "picking",
        "receiving",
        "removing",
        "repackaging",
        "repairing",
        "replacing",
        "reserving",
        "retail_selling",
        "sampling",
        "sensor_reporting",
        "shipping",
        "staging_outbound",
        "stock_taking",
        "stocking",
        "storing",
        "transporting",
        "unloading",
        "unpacking",
        "void_shipping",
    ]
)

DISPOSITIONS: frozenset[str] = frozenset(
    [
        "active",
        "available",
        "completeness_inferred",
        "completeness_verified",
        "conformant",
        "container_closed",
        "container_open",
        "damaged",
        "destroyed",
        "dispensed",
        "disposed",
        "encoded",
        "expired",
        "in_progress",
        "in_transit",
        "inactive",
        "mismatch_class",
        "mismatch_instance",
        "mismatch_quantity",
        "needs_replacement",
        "no_pedigree_match",
        "non_conformant",
        "non_sellable_other",
        "partially_dispensed",
        "recalled",
        "reserved",
        "retail_sold",
        "returned",
        "sellable_accessible",
        "sellable_not_accessible",
        "stolen",
        "unavailable",
        "unknown",
    ]
)

BIZ_TRANSACTION_TYPES: frozenset[str] = frozenset(
    [
        "bol",
        "cert",
        "desadv",
        "inv",
        "pedigree",
        "po",
        "poc",
        "prodorder",
        "recadv",
        "rma",
        "testprd",
        "testres",
        "upevt",
    ]
)

SOURCE_DESTINATION_TYPES: frozenset[str] = frozenset(
    ["owning_party", "possessing_party", "location"]
)

ERROR_REASONS: frozenset[str] = frozenset(["did_not_occur", "incorrect_data"])

SENSOR_ALERT_TYPES: frozenset[str] = frozenset(["ALARM_CONDITION", "ERROR_CONDITION"])

# GS1 Web Vocabulary measurement types allowed in sensorReport.type (EPCIS 2.0 JSON schema).
MEASUREMENT_TYPES: frozenset[str] = frozenset(
    [
        "AbsoluteHumidity",
        "AbsorbedDose",
        "AbsorbedDoseRate",
        "Acceleration",
        "Altitude",
        "AmountOfSubstance",
        "AmountOfSubstancePerUnitVolume",
        "Angle",
        "AngularAcceleration",
        "AngularMomentum",
        "AngularVelocity",
        "Area",
        "Capacitance",
        "Conductance",
        "Conductivity",
        "Count",
        "Density",
        "Dimensionless",
        "DoseEquivalent",
        "DoseEquivalentRate",
        "DynamicViscosity",
        "ElectricCharge",
        "ElectricCurrent",
        "ElectricCurrentDensity",
        "ElectricFieldStrength",
        "Energy",
        "Exposure",
        "Force",
        "Frequency",
        "Illuminance",
        "Inductance",
        "Irradiance",
        "KinematicViscosity",
        "Length",
        "LinearMomentum",
        "Luminance",
        "LuminousFlux",
        "LuminousIntensity",
        "MagneticFlux",
        "MagneticFluxDensity",
        "MagneticVectorPotential",
        "Mass",
        "MassConcentration",
        "MassFlowRate",
        "MassPerAreaTime",
        "MemoryCapacity",
        "MolalityOfSolute",
        "MolarEnergy",
        "MolarMass",
        "MolarVolume",
        "Power",
        "Pressure",
        "Radioactivity",
        "RadiantFlux",
        "RadiantIntensity",
        "RelativeHumidity",
        "Resistance",
        "Resistivity",
        "SolidAngle",
        "SpecificVolume",
        "Speed",
        "SurfaceDensity",
        "SurfaceTension",
        "Temperature",
        "Time",
        "Torque",
        "Voltage",
        "Volume",
        "VolumeFlowRate",
        "VolumeFraction",
        "VolumetricFlux",
        "Wavenumber",
    ]
)


# Measurement type names of the GS1 vocabulary drafts that GS1's own EPCIS 2.0 XML examples
# still use, with the ratified term their JSON-LD twins use (SensorDataExample8 and 11).
MEASUREMENT_TYPE_SYNONYMS: dict[str, str] = {
    "EffectiveDoseRate": "DoseEquivalentRate",
    "Molar_concentration": "AmountOfSubstancePerUnitVolume",
}


@dataclass(frozen=True)
class Vocabulary:
    """One CBV vocabulary: its terms and the prefixes under which GS1 writes them."""

    name: str
    terms: frozenset[str]
    web_prefix: str  # after https://ref.gs1.org/cbv/ or cbv: (e.g. "BizStep-")
    urn_prefix: str  # after urn:epcglobal:cbv: (e.g. "bizstep:")


BIZ_STEP = Vocabulary("bizStep", BIZ_STEPS, "BizStep-", "bizstep:")
DISPOSITION = Vocabulary("disposition", DISPOSITIONS, "Disp-", "disp:")
BIZ_TRANSACTION_TYPE = Vocabulary("bizTransactionType", BIZ_TRANSACTION_TYPES, "BTT-", "btt:")
SOURCE_DESTINATION_TYPE = Vocabulary(
    "sourceDestinationType", SOURCE_DESTINATION_TYPES, "SDT-", "sdt:"
)
ERROR_REASON = Vocabulary("errorReason", ERROR_REASONS, "ER-", "er:")

_CBV_WEB = re.compile(r"^https?://(?:ref|ns)\.gs1\.org/cbv/(.*)$")
_GS1_VOC = re.compile(r"^https?://(?:www\.)?gs1\.org/voc/(.*)$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")


def is_absolute_uri(value: str) -> bool:
    """Tells whether a string has a URI scheme and no whitespace (CURIEs included)."""
    return bool(_SCHEME.match(value))


def cbv_term_known(value: str, vocabulary: Vocabulary) -> bool | None:
    """Tells whether a value is a known term (True), an unknown GS1 term (False) or user-defined.

    Returns None for a user-defined absolute URI outside the GS1 namespaces, which the standard
    allows; a bare word that is not a CBV term counts as unknown (False).
    """
    if value in vocabulary.terms:
        return True
    lowered = value.lower()
    if lowered.startswith("urn:epcglobal:cbv:"):
        rest = value[len("urn:epcglobal:cbv:") :]
        if rest.lower().startswith(vocabulary.urn_prefix):
            return rest[len(vocabulary.urn_prefix) :] in vocabulary.terms
        return False
    web = _CBV_WEB.match(value)
    if web or value.startswith("cbv:"):
        rest = web.group(1) if web else value[len("cbv:") :]
        # GS1's sensor examples write "Bizstep-"; the prefix is matched whatever its case.
        if rest.lower().startswith(vocabulary.web_prefix.lower()):
            return rest[len(vocabulary.web_prefix) :] in vocabulary.terms
        return False
    if _GS1_VOC.match(value) or value.startswith("gs1:"):
        return False
    return None if is_absolute_uri(value) else False


def measurement_type_known(value: str) -> bool | None:
    """Like `cbv_term_known` for sensorReport.type (GS1 Web Vocabulary `gs1:` terms)."""
    if value in MEASUREMENT_TYPES:
        return True
    voc = _GS1_VOC.match(value)
    if voc or value.startswith("gs1:"):
        term = voc.group(1) if voc else value[len("gs1:") :]
        return term in MEASUREMENT_TYPES or term in MEASUREMENT_TYPE_SYNONYMS
    if _CBV_WEB.match(value) or value.lower().startswith("urn:epcglobal:cbv:"):
        return False
    return None if is_absolute_uri(value) else False


def measurement_type_term(value: str) -> str:
    """A sensorReport type in one form: the ratified GS1 term ("Temperature"), whether written
    bare, as gs1: CURIE, as Web URI or as a draft synonym; a user's own URI unchanged."""
    voc = _GS1_VOC.match(value)
    term = voc.group(1) if voc else value[len("gs1:") :] if value.startswith("gs1:") else value
    term = MEASUREMENT_TYPE_SYNONYMS.get(term, term)
    return term if term in MEASUREMENT_TYPES else value
