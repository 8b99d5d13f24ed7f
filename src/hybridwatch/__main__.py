"""The CLI as a script: ``python -m hybridwatch …``, and the file spark-submit runs
(``spark-submit … "$(python -c 'import hybridwatch.__main__ as m; print(m.__file__)')" …``;
spark-submit takes a ``.py`` file, not the console script)."""

from hybridwatch.cli import main

if __name__ == "__main__":
    main()
