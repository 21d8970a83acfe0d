"""What the settings expect, in the words their help and the docs' Settings page use."""


def up_to(most: int) -> str:
    return f"a whole number from 1 to {most}"


SECONDS = "seconds"
PORT = "a port from 0 to 65535"
PEM_FILE = "a readable PEM file"
ON_OR_OFF = "0 or 1"
REFUSED = "more get RESOURCE_EXHAUSTED"
