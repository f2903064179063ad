"""The annual report of the charter, written from live data (issue 17, after Nantes' report,
seed 003): one chapter per engagement with its figures, the rules' results, the documented
deviations and the actions with their marks, the narrative the authority writes, and an
annex saying how and when each figure was computed.

- `figures`: the figures, counted from the registers as of the report's date, with the
  previous years beside them and the method of each;
- `inputs`: the seam with the charter's rules engine. The report takes plain records
  (`RuleOutcome`, `DeviationEntry`, `ActionEntry`, gathered in a `ReportInputs`, empty when
  none are given) and never evaluates a rule itself: whoever builds a report passes the
  engine's results to `service.live_view` / `service.publish`, keyed by chapter
  (`figures.CHAPTERS`);
- `models`, `service`: the editions (a draft, then published editions frozen with their
  figures and HTML; a new edition is a new row);
- `charts`, `render`, `templates/`: inline SVG charts with their text alternatives, the HTML
  (portal page, standalone export) and the PDF (WeasyPrint).
"""
