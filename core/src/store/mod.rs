//! The wallet's SQLite database: schema, migrations, envelope encryption, key wrapping.
