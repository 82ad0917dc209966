"""The messages the partner contract fixes, byte for byte, declared once for every test.

Written out here rather than imported from the service, so that the tests hold the service to
the contract and not to itself.
"""

MISSING_API_KEY = "Please provide your API key."
MISSION_NOT_UPDATABLE = "This mission does not exist or you don't have the permission to update it."
MISSION_NOT_FOUND = "This mission does not exist or you don't have the permission to access it."
COMPANY_NOT_FOUND = "This company does not exist or you don't have the permission to access it."
COMPANY_NOT_USABLE = "This company does not exist or you don't have the permission to use it."
STATUS_NOT_LIVE = "You can't update the status of a JD that is not Live."
AUTHENTICATE = 'Apikey realm="CrossPath"'
ONLY_PRIVATE_DELETED = (
    "Only a private mission can be deleted; close a live mission by setting its status to closed."
)
