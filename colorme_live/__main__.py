import sys

from colorme_live.cli import main

sys.exit(main())
