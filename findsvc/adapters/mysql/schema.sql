-- The AddService's table, as Hibernate (ddl-auto=update) creates it on MySQL.
-- The AddService owns it; findsvc only reads name, phone and since, by name.
-- `findsvc db init` runs this for dev and tests.
CREATE TABLE IF NOT EXISTS ums_users (
  id BIGINT NOT NULL AUTO_INCREMENT,
  name VARCHAR(255),
  phone BIGINT NOT NULL,
  since DATETIME(6),
  PRIMARY KEY (id),
  CONSTRAINT uk_ums_users_name UNIQUE (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4
