"""Sovereignty over public data: the map of the information system (applications, where
they are hosted and under which law), the hosting strategy per data sensitivity and the
placements that break it, contracts with the charter's data clauses, and reversibility.

- `models`: the tables and their French vocabularies;
- `strategy`: the authority's sensitivity levels and the placements each allows;
- `applications`: the applications register (validation, links to inventory datasets and
  to the GDPR register's processing activities, history and audit);
- `importer`: the IT department's application map from XLSX/ODS/CSV (core/tabular);
- `contracts`: contracts, the clause set, clause statuses, reversibility tests and watch;
- `partners`: those who signed the charter, their yearly actions, the public list.
"""
