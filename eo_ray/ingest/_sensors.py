"""The built-in sensors: Landsat 7/8/9, Sentinel-1 GRD/SLC, Sentinel-2 and OpenSARShip chips."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Any, ClassVar

from eo_ray.ingest._product import Product, parse_datetime, register

_LANDSAT_BAND = r"(?P<band>B\d{1,2}(?:_VCID_\d)?|BQA|QA_PIXEL|QA_RADSAT)"


@register
class Landsat(Product):
    """A Landsat scene stored one GeoTIFF per band, with an ``<scene>_MTL.txt`` sidecar."""

    name = "landsat"
    filename_regex = rf"^(?P<scene>[^/]+)_{_LANDSAT_BAND}\.tiff?$"
    separate_files = True
    spacecraft_id: ClassVar[str | None] = None
    scene_regex: ClassVar[str | None] = None

    @classmethod
    def sidecar_names(cls, groups: dict[str, Any]) -> tuple[str, ...]:
        return (f"{groups['scene']}_MTL.txt",)

    @classmethod
    def parse_sidecar(cls, name: str, data: bytes) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for line in data.decode("utf-8", "replace").splitlines():
            key, sep, value = line.partition("=")
            key = key.strip()
            if sep and key not in ("GROUP", "END_GROUP"):
                values[key] = value.strip().strip('"')
        return values

    @classmethod
    def resolve(cls, groups: dict[str, Any], sidecar: dict[str, Any]) -> type[Product]:
        """The concrete Landsat mission, from the MTL spacecraft or the scene id."""
        scene = sidecar.get("LANDSAT_SCENE_ID") or sidecar.get("LANDSAT_PRODUCT_ID") or ""
        scene = scene or groups.get("scene", "")
        for mission in (Landsat7, Landsat8, Landsat9):
            if sidecar.get("SPACECRAFT_ID") == mission.spacecraft_id or (
                mission.scene_regex and re.match(mission.scene_regex, scene)
            ):
                return mission
        return cls

    @classmethod
    def properties(cls, groups: dict[str, Any], sidecar: dict[str, Any]) -> dict[str, Any]:
        props = super().properties(groups, sidecar)
        date, clock = sidecar.get("DATE_ACQUIRED"), sidecar.get("SCENE_CENTER_TIME")
        if date:
            stamp = f"{date}T{(clock or '00:00:00').rstrip('Z')[:15]}"
            fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in stamp else "%Y-%m-%dT%H:%M:%S"
            props["datetime"] = parse_datetime(stamp, fmt)
        else:
            props.update(_landsat_date_from_id(groups.get("scene", "")))
        scene = sidecar.get("LANDSAT_SCENE_ID") or groups.get("scene")
        props["landsat:scene_id"] = scene
        if sidecar.get("LANDSAT_PRODUCT_ID"):
            props["landsat:product_id"] = sidecar["LANDSAT_PRODUCT_ID"]
        if sidecar.get("CLOUD_COVER"):
            props["eo:cloud_cover"] = float(sidecar["CLOUD_COVER"])
        for key, target in (
            ("DATA_TYPE", "product_type"),
            ("WRS_PATH", "landsat:wrs_path"),
            ("WRS_ROW", "landsat:wrs_row"),
            ("SUN_ELEVATION", "view:sun_elevation"),
            ("SUN_AZIMUTH", "view:sun_azimuth"),
        ):
            if sidecar.get(key):
                props[target] = sidecar[key]
        collection = sidecar.get("COLLECTION_NUMBER")
        props["landsat:qa_scheme"] = (
            "pre-collection" if not collection else f"collection-{int(float(collection))}"
        )
        return props


def _landsat_date_from_id(scene: str) -> dict[str, str]:
    old = re.match(r"^L[COTEM]\d\d{6}(?P<date>\d{7})", scene)  # LC80200392015216LGN00
    if old:
        return {"datetime": parse_datetime(old["date"], "%Y%j")}
    new = re.match(r"^L[COTEM]0\d_\w{4}_\d{6}_(?P<date>\d{8})_", scene)  # LC08_L1TP_...
    if new:
        return {"datetime": parse_datetime(new["date"], "%Y%m%d")}
    return {}


class Landsat8(Landsat):
    """Landsat 8 OLI/TIRS."""

    name = "landsat-8"
    spacecraft_id = "LANDSAT_8"
    scene_regex = r"^(LC08_|LC8)"
    platform = "landsat-8"
    constellation = "landsat"
    instrument = "oli_tirs"
    all_bands = (*(f"B{i}" for i in range(1, 12)), "BQA")
    rgb_bands = ("B4", "B3", "B2")
    common_names: ClassVar[dict[str, str]] = {
        "B1": "coastal",
        "B2": "blue",
        "B3": "green",
        "B4": "red",
        "B5": "nir",
        "B6": "swir16",
        "B7": "swir22",
        "B8": "pan",
        "B9": "cirrus",
        "B10": "lwir11",
        "B11": "lwir12",
    }


class Landsat9(Landsat8):
    """Landsat 9 OLI-2/TIRS-2 (band layout of Landsat 8)."""

    name = "landsat-9"
    spacecraft_id = "LANDSAT_9"
    scene_regex = r"^(LC09_|LC9)"
    platform = "landsat-9"


class Landsat7(Landsat):
    """Landsat 7 ETM+."""

    name = "landsat-7"
    spacecraft_id = "LANDSAT_7"
    scene_regex = r"^(LE07_|LE7)"
    platform = "landsat-7"
    constellation = "landsat"
    instrument = "etm"
    all_bands = ("B1", "B2", "B3", "B4", "B5", "B6_VCID_1", "B6_VCID_2", "B7", "B8", "BQA")
    rgb_bands = ("B3", "B2", "B1")
    common_names: ClassVar[dict[str, str]] = {
        "B1": "blue",
        "B2": "green",
        "B3": "red",
        "B4": "nir",
        "B5": "swir16",
        "B7": "swir22",
        "B8": "pan",
    }


@register
class Sentinel2(Product):
    """Sentinel-2 L1C/L2A band files (``T33UVP_20200101T100309_B04[_10m].jp2``)."""

    name = "sentinel-2"
    filename_regex = (
        r"(?:^|/)(?P<scene>T(?P<tile>\d{2}[A-Z]{3})_(?P<date>\d{8}T\d{6}))"
        r"_(?P<band>B\d[\dA]|SCL|TCI)(?:_\d+m)?\.(?:jp2|tiff?)$"
    )
    separate_files = True
    platform = "sentinel-2"
    constellation = "sentinel-2"
    instrument = "msi"
    all_bands = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09")
    all_bands += ("B10", "B11", "B12")
    rgb_bands = ("B04", "B03", "B02")
    common_names: ClassVar[dict[str, str]] = {
        "B01": "coastal",
        "B02": "blue",
        "B03": "green",
        "B04": "red",
        "B05": "rededge",
        "B06": "rededge",
        "B07": "rededge",
        "B08": "nir",
        "B8A": "nir08",
        "B09": "nir09",
        "B10": "cirrus",
        "B11": "swir16",
        "B12": "swir22",
    }

    @classmethod
    def properties(cls, groups: dict[str, Any], sidecar: dict[str, Any]) -> dict[str, Any]:
        return {**super().properties(groups, sidecar), "s2:mgrs_tile": groups.get("tile")}


_S1_NAME = (
    r"(?P<mission>S1[A-D])_(?P<mode>IW|EW|WV|S[1-6])_(?P<ptype>GRD|SLC|OCN|RAW)(?P<res>[FHM_])"
    r"_(?P<level>[0-2])(?P<pclass>[SA])(?P<pol>SH|SV|DH|DV|HH|VV|HV|VH)"
    r"_(?P<start>\d{8}T\d{6})_(?P<stop>\d{8}T\d{6})_(?P<orbit>\d{6})_(?P<datatake>[0-9A-F]{6})"
)
_POLARISATIONS = {
    "SH": ["HH"],
    "SV": ["VV"],
    "DH": ["HH", "HV"],
    "DV": ["VV", "VH"],
    "HH": ["HH"],
    "VV": ["VV"],
    "HV": ["HV"],
    "VH": ["VH"],
}


@register
class Sentinel1(Product):
    """A raster inside a Sentinel-1 product (zip or SAFE named ``S1A_IW_GRDH_1SDV_...``)."""

    name = "sentinel-1"
    container_regex = _S1_NAME
    filename_regex = r"\.tiff?$"
    constellation = "sentinel-1"
    instrument = "c-sar"

    @classmethod
    def properties(cls, groups: dict[str, Any], sidecar: dict[str, Any]) -> dict[str, Any]:
        props = super().properties(groups, sidecar)
        props.update(
            {
                "platform": f"sentinel-{groups['mission'][1:].lower()}",
                "product_type": groups["ptype"],
                "sar:instrument_mode": groups["mode"],
                "sar:product_type": groups["ptype"],
                "sar:resolution": {"F": "full", "H": "high", "M": "medium"}.get(groups["res"]),
                "sar:polarizations": _POLARISATIONS[groups["pol"].upper()],
                "sat:absolute_orbit": int(groups["orbit"]),
                "s1:datatake_id": groups["datatake"],
                "processing:level": f"L{groups['level']}",
            }
        )
        return {k: v for k, v in props.items() if v is not None}

    @classmethod
    def band_names(cls, groups: dict[str, Any], count: int) -> list[str]:
        pols = _POLARISATIONS[groups["pol"].upper()]
        if len(pols) == count:
            return list(pols)
        if count == 1 and len(pols) == 2:
            return [pols[0]]
        return super().band_names(groups, count)


@register
class OpenSARShipChip(Sentinel1):
    """A ship chip of OpenSARShip: class and pixel centre in the name, AIS in ``Ship.xml``."""

    name = "opensarship"
    filename_regex = (
        r"(?:^|/)(?P<patch>Patch(?:_Cal|_Uint8|_RGB)?)/(?:Visual_)?(?P<label>[^/]+?)"
        r"_x(?P<x>\d+)_y(?P<y>\d+)(?:_(?P<chip_pol>vv|vh|hh|hv))?\.tiff?$"
    )
    georeferenced = False

    @classmethod
    def sidecar_names(cls, groups: dict[str, Any]) -> tuple[str, ...]:
        return ("Ship.xml",)

    @classmethod
    def parse_sidecar(cls, name: str, data: bytes) -> dict[str, Any]:
        return {"ships": parse_ship_xml(data)}

    @classmethod
    def properties(cls, groups: dict[str, Any], sidecar: dict[str, Any]) -> dict[str, Any]:
        props = super().properties(groups, sidecar)
        props["label"] = groups["label"]
        props["opensarship:patch"] = groups["patch"]
        props["opensarship:center"] = [int(groups["x"]), int(groups["y"])]
        ship = sidecar.get("ships", {}).get((int(groups["x"]), int(groups["y"])))
        if ship:
            props.update(ship)
            if ship.get("ais:time"):
                stamp = datetime.fromtimestamp(int(ship["ais:time"]), tz=timezone.utc)
                props["ais:datetime"] = stamp.isoformat().replace("+00:00", "Z")
        return props

    @classmethod
    def band_names(cls, groups: dict[str, Any], count: int) -> list[str]:
        if "chip_pol" in groups and count == 1:
            return [groups["chip_pol"].upper()]
        return super().band_names(groups, count)

    @classmethod
    def location(cls, props: dict[str, Any]) -> tuple[float, float] | None:
        """The ship's (lon, lat) in WGS84 from Ship.xml, when known."""
        lon, lat = props.get("opensarship:longitude"), props.get("opensarship:latitude")
        return (float(lon), float(lat)) if lon is not None and lat is not None else None


_AIS_FIELDS = {
    "MMSI": ("ais:mmsi", int),
    "Ship_Type": ("ais:ship_type", int),
    "Name": ("ais:name", str),
    "IMO": ("ais:imo", int),
    "Callsign": ("ais:callsign", str),
    "Length": ("ais:length", float),
    "Width": ("ais:width", float),
    "Draught": ("ais:draught", float),
    "Sog": ("ais:sog", float),
    "Cog": ("ais:cog", float),
    "True_Head": ("ais:true_head", float),
    "Nav_Status": ("ais:nav_status", int),
    "Time": ("ais:time", int),
    "Longitude": ("ais:longitude", float),
    "Latitude": ("ais:latitude", float),
}
_SAR_FIELDS = {
    "Center_longitude": ("opensarship:longitude", float),
    "Center_latitude": ("opensarship:latitude", float),
    "Manual_Length": ("opensarship:manual_length", float),
    "Incidence": ("sar:incidence_angle", float),
}


def _complete_ships(data: bytes) -> list[ET.Element]:
    """Every complete <ship> element, even when the file ends badly (some close with
    ``<\\ShipList>``): a pull parser keeps what it parsed before the error."""
    parser = ET.XMLPullParser(events=("end",))
    ships = []
    try:
        parser.feed(data)
        for _, element in parser.read_events():
            if element.tag == "ship":
                ships.append(element)
    except ET.ParseError:
        ships += [e for _, e in parser.read_events() if e.tag == "ship"]
    return ships


def parse_ship_xml(data: bytes) -> dict[tuple[int, int], dict[str, Any]]:
    """OpenSARShip's ``Ship.xml`` as ``{(center_x, center_y): {field: value}}``."""
    ships: dict[tuple[int, int], dict[str, Any]] = {}
    for ship in _complete_ships(data):
        sar, ais = ship.find("SARShipInformation"), ship.find("AISShipInformation")
        if sar is None:
            continue
        try:
            key = (int(sar.findtext("Center_x", "")), int(sar.findtext("Center_y", "")))
        except ValueError:
            continue
        record: dict[str, Any] = {}
        for section, fields in ((sar, _SAR_FIELDS), (ais, _AIS_FIELDS)):
            if section is None:
                continue
            for tag, (target, cast) in fields.items():
                text = (section.findtext(tag) or "").strip()
                if text:
                    try:
                        record[target] = cast(float(text)) if cast is int else cast(text)
                    except ValueError:
                        continue
        elaborated = ship.findtext("MarineTrafficInformation/Elaborated_type")
        if elaborated:
            record["ais:elaborated_type"] = elaborated.strip()
        ships[key] = record
    return ships
