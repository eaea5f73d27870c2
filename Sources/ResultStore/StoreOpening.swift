import RiskModel

/// Opens the store a location names.
public enum ResultStores {
    /// Opens (creating and migrating when needed) the store at `location`.
    public static func open(_ location: StoreLocation) throws(StoreError) -> any ResultStore {
        switch location {
        case .sqlite(let path):
            return try SQLiteStore(path: path)
        case .postgres(let host, let port, let user, let password, let database):
            return try PostgresStore(host: host, port: port, user: user, password: password, database: database)
        }
    }
}
