from auditlib.cli import main

main()
