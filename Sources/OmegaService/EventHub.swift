import Foundation
import OmegaModels
import Synchronization

/// An event the service publishes (`tokens.updated` after every settle).
public struct ServiceEvent: Sendable {
    /// The event's name.
    public var name: String
    /// Its data (seed 002's `total_used`, `usage_percentage` …).
    public var data: JSONValue

    /// The event as a server-sent event: `event:` and `data:` lines and a blank line.
    public var serverSent: String {
        "event: \(name)\ndata: \(ServiceJSON.string(data))\n\n"
    }

    /// The event as a JSON-RPC 2.0 notification (WebSocket frames).
    public var notification: String {
        ServiceJSON.string(.object(["jsonrpc": .string("2.0"), "method": .string(name), "params": data]))
    }
}

/// Subscribers to the service's events: each gets its own stream, which
/// keeps the newest 256 events if the subscriber falls behind.
public final class EventHub: Sendable {
    private let subscribers = Mutex<[UUID: AsyncStream<ServiceEvent>.Continuation]>([:])
    private let closed = Atomic<Bool>(false)

    /// An empty hub.
    public init() {}

    /// Whether anyone listens (events are not built for no one).
    public var hasSubscribers: Bool { subscribers.withLock { !$0.isEmpty } }

    /// A stream of every event published from now on; it ends when the
    /// subscriber's task is cancelled or the service stops.
    public func subscribe() -> AsyncStream<ServiceEvent> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<ServiceEvent>.makeStream(bufferingPolicy: .bufferingNewest(256))
        if closed.load(ordering: .acquiring) {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in self?.subscribers.withLock { _ = $0.removeValue(forKey: id) } }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    /// Sends `event` to every subscriber.
    public func publish(_ event: ServiceEvent) {
        for c in subscribers.withLock({ Array($0.values) }) { c.yield(event) }
    }

    /// Ends every stream (the service is stopping).
    public func finish() {
        closed.store(true, ordering: .releasing)
        for c in subscribers.withLock({ s in defer { s = [:] }; return Array(s.values) }) { c.finish() }
    }
}

/// JSON for the service's answers: sorted keys, so that output is stable.
enum ServiceJSON {
    static func data(_ v: JSONValue) -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? e.encode(v)) ?? Data("null".utf8)
    }

    static func string(_ v: JSONValue) -> String { String(decoding: data(v), as: UTF8.self) }
}
