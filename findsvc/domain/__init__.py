"""The domain: `Name`, `PhoneNumber`, `User`, their errors, the call's time budget
(`deadline`) and the ports the outside world implements (`ports`: the repository Protocols
and its errors). Pure Python: it imports nothing of findsvc outside itself, and knows no
gRPC, SQL, env vars or logging setup."""
