"""Run by tests/interop with Patrimoine's own Python, on the data folder of
PATRIMOINE_DATA_DIR: declares a Table Schema on two published datasets of the demo (a shipped
one, the SCDL subventions, and a descriptor given by hand), as an administrator would, so that
the harvest shows both kinds travelling. Prints, for every published dataset declaring a
schema (the demo declares some itself), {slug: the shipped schema's published URL, or
"descriptor"} as JSON."""

from __future__ import annotations

import json

from sqlalchemy import select

from patrimoine.access.principal import Principal
from patrimoine.bootstrap import bootstrap
from patrimoine.datastore.models import DatasetVersion
from patrimoine.interop import public
from patrimoine.inventory.models import Dataset
from patrimoine.standards import validation


def main() -> None:
    services = bootstrap()
    system = Principal.system("tests/interop")
    declared: dict[str, str] = {}
    with services.db.unit_of_work() as s:
        published = list(s.scalars(public.public_query().where(
            Dataset.id.in_(select(DatasetVersion.dataset_id))).order_by(Dataset.id)))
        subsidies = next(d for d in published if "subvention" in d.slug)
        validation.declare_schema(s, system, subsidies, name="scdl-subventions")
        other = next(d for d in published
                     if validation.declared_schema(s, d) is None)
        version = s.scalar(select(DatasetVersion).where(DatasetVersion.dataset_id == other.id)
                           .order_by(DatasetVersion.number.desc()).limit(1))
        assert version is not None
        descriptor = {"fields": [{"name": c["name"], "type": c["type"]
                                  if c["type"] != "geometry" else "string"}
                                 for c in version.columns]}
        validation.declare_schema(s, system, other, descriptor=descriptor)
        for dataset in published:
            schema = validation.declared_schema(s, dataset)
            if schema is not None:
                declared[dataset.slug] = (str(schema.shipped.descriptor().get("path"))
                                          if schema.shipped else "descriptor")
    print(json.dumps(declared))


if __name__ == "__main__":
    main()
