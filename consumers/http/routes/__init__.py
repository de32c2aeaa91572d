"""One module per resource group; each route names its operation (`roles.ALLOWED`)."""
