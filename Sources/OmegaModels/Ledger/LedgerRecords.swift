import Foundation
import GRDB

// The ledger's simple tables as Codable records: GRDB reads and writes
// them by column name. (The `calls` table, written once per model call on
// the meter's path, keeps its hand-bound statement.)

extension Ledger.Alert: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "alerts"

    public static func databaseDateDecodingStrategy(for column: String) -> DatabaseDateDecodingStrategy { .timeIntervalSince1970 }
    public static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy { .timeIntervalSince1970 }
}

extension Ledger.TaskRecord: Codable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "tasks"

    enum CodingKeys: String, CodingKey {
        case time, runID = "run_id", kind, task, size, tokens, cost = "cost_pd", seconds
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        time = try c.decode(Date.self, forKey: .time)
        runID = try c.decode(String.self, forKey: .runID)
        kind = try c.decode(String.self, forKey: .kind)
        task = try c.decode(String.self, forKey: .task)
        size = try c.decodeIfPresent(Double.self, forKey: .size)
        tokens = try c.decode(Int64.self, forKey: .tokens)
        cost = Money(picodollars: try c.decode(Int64.self, forKey: .cost))
        seconds = try c.decode(Double.self, forKey: .seconds)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(time, forKey: .time)
        try c.encode(runID, forKey: .runID)
        try c.encode(kind, forKey: .kind)
        try c.encode(task, forKey: .task)
        try c.encodeIfPresent(size, forKey: .size)
        try c.encode(tokens, forKey: .tokens)
        try c.encode(cost.picodollars, forKey: .cost)
        try c.encode(seconds, forKey: .seconds)
    }

    public static func databaseDateDecodingStrategy(for column: String) -> DatabaseDateDecodingStrategy { .timeIntervalSince1970 }
    public static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy { .timeIntervalSince1970 }
}
