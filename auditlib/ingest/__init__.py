"""The ingest: a folder of CSV/XLSX exports into the audit database (CONTRACT §1).

``ingest(data_dir, db, mapping=None)`` in :mod:`.load` runs it; the other modules each do
one step:

- :mod:`.schema`: the six tables, their columns, aliases and keys;
- :mod:`.values`: parsing one cell (money, dates, text, yes/no ...);
- :mod:`.encoding`: choosing a CSV file's encoding (UTF-8, GBK, Windows-1252 ...) and how sure it is;
- :mod:`.readers`: reading one CSV/XLSX file into a header and raw rows;
- :mod:`.header`: finding the header (title rows, delimiters, merged cells) and mapping columns;
- :mod:`.profiles`: mapping profiles for exports with their own layout (用友, 金蝶 ...);
- :mod:`.rows`: the row path (parse a row, load a file row by row);
- :mod:`.sniff` and :mod:`.fast`: the fast path for large UTF-8 CSV files (DuckDB reads them);
- :mod:`.completeness`: warnings on what was loaded;
- :mod:`.report`: the ingest report, reject reasons and ``rejects.csv``.
"""
