"""The ClickHouse history: client factory, migrations, the Kafka sink and analyst queries."""
