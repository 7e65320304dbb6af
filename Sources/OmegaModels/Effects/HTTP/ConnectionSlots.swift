import Foundation
import OmegaCore

/// How many requests may be open to one server at once, and the queue of
/// calls waiting for one of those connections.
///
/// AsyncHTTPClient queues a request that finds every pooled connection busy,
/// but only for its connect timeout (3 s): against a server that answers one
/// request at a time, most of 16 calls in flight then failed with
/// `getConnectionFromPoolTimeout`. A call waiting for a connection is waiting
/// its turn, so Omega keeps that queue itself: first come, first served,
/// within the call's own timeout, and an error that says it waited.
final class ConnectionSlots: @unchecked Sendable {
    /// One queue per server (`scheme://host:port`) and limit.
    private static let lock = NSLock()
    private static var byServer: [String: ConnectionSlots] = [:]

    /// The slots for `server`; the first backend to ask sets the limit.
    static func forServer(_ server: String, limit: Int) -> ConnectionSlots {
        lock.lock()
        defer { lock.unlock() }
        let key = "\(server)#\(limit)"
        if let s = byServer[key] { return s }
        let s = ConnectionSlots(limit: limit)
        byServer[key] = s
        return s
    }

    let limit: Int
    private let lock = NSLock()
    private var inUse = 0
    private var queue: [Int] = []
    private var nextTicket = 0

    init(limit: Int) { self.limit = max(1, limit) }

    /// Waits for a free connection until `deadline`; false if none came.
    /// Throws `CancellationError` when the call is cancelled while waiting.
    func acquire(until deadline: Date) async throws -> Bool {
        let ticket = lock.withLock { () -> Int in
            defer { nextTicket += 1 }
            queue.append(nextTicket)
            return nextTicket
        }
        defer { lock.withLock { queue.removeAll { $0 == ticket } } }
        while true {
            if tryTake(ticket) { return true }
            if Date() >= deadline { return false }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
    }

    /// Takes a connection if one is free and `ticket` is among the first in line.
    private func tryTake(_ ticket: Int) -> Bool {
        lock.withLock {
            guard inUse < limit, let position = queue.firstIndex(of: ticket), position < limit - inUse else { return false }
            inUse += 1
            return true
        }
    }

    /// Gives a connection back.
    func release() {
        lock.withLock { inUse = max(0, inUse - 1) }
    }

    /// Requests open now (for tests).
    var open: Int { lock.withLock { inUse } }
}
