from masterops.cli.main import main

main()
