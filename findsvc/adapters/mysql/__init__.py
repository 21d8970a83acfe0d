"""MySQL (and MariaDB) through PyMySQL: the repository, its connection pool, how its errors
map to the port's, the TLS target and the grants an account needs."""
