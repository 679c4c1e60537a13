"""Import real floor plans (IFC, GeoJSON, DXF) into building graphs; check and draw building files.

Modules: ``plan`` (the format-neutral floor plan every reader produces), ``ifc`` / ``geojson`` / ``dxf``
(the readers), ``kinds`` (kind, capacity and occupants from names and areas), ``graph`` (the inference
shared by all readers: doors join spaces, exterior doors become exits, stairs link floors), ``report``
(what was inferred and what could not be), ``toml_out`` (the building file written), ``plot`` (the plan
drawn), ``importer`` (format detection and the whole import), ``cli`` (``responsesim building``).
See ``docs/buildings.md``. (Nothing heavy is imported here: the command line starts fast.)
"""

from responsesim.buildings.errors import BuildingImportError

__all__ = ["BuildingImportError"]
