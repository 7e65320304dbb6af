import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A scripted HTTP server on 127.0.0.1 for the backend tests: it answers
/// requests in order from a list of canned replies and remembers what it was
/// sent. A reply can stop half-way and close the connection (a cut stream).
final class StubServer: @unchecked Sendable {
    struct Reply {
        var status: Int = 200
        var headers: [(String, String)] = [("content-type", "application/json")]
        /// Body pieces, written one after the other.
        var chunks: [String]
        /// Close the connection after the chunks, without ending the body.
        var cut = false
        /// Seconds to wait before answering.
        var delay: Double = 0
        /// Answer only once this many requests have arrived (a condition,
        /// not a clock: proves requests were in flight together).
        var gate = 0
    }

    struct Received {
        var method: String
        var path: String
        var headers: [(String, String)]
        var body: String
        /// When the request arrived.
        var arrived = Date()
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    private var channel: Channel?
    private let lock = NSLock()
    private var replies: [Reply]
    private(set) var received: [Received] = []
    /// Replies held back by their gate, each with the loop that sends it.
    private var held: [(gate: Int, send: () -> Void)] = []
    var port: Int { channel?.localAddress?.port ?? 0 }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    init(_ replies: [Reply]) throws {
        self.replies = replies
        // NIO's process-wide threads: no event-loop group per test to shut down.
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(server: self))
                }
            }
        channel = try bootstrap.bind(host: "127.0.0.1", port: 0).wait()
    }

    deinit { close() }

    /// Stops listening (also done when the server is released). Never
    /// waits: this may run on one of NIO's own threads.
    func close() {
        channel?.close(promise: nil)
        channel = nil
    }

    var requests: [Received] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    fileprivate func next(_ r: Received) -> Reply {
        lock.lock()
        defer { lock.unlock() }
        received.append(r)
        return replies.isEmpty ? Reply(status: 500, chunks: ["{\"error\":{\"message\":\"no more scripted replies\"}}"]) : replies.removeFirst()
    }

    /// Holds a reply until `gate` requests have arrived, then sends every
    /// held reply whose gate is reached.
    fileprivate func hold(gate: Int, _ send: @escaping () -> Void) {
        lock.lock()
        held.append((gate, send))
        let count = received.count
        let ready = held.filter { $0.gate <= count }
        held.removeAll { $0.gate <= count }
        lock.unlock()
        for r in ready { r.send() }
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        weak var server: StubServer?
        var head: HTTPRequestHead?
        var body = ""
        init(server: StubServer) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                body = ""
            case .body(var buffer):
                body += buffer.readString(length: buffer.readableBytes) ?? ""
            case .end:
                guard let h = head, let server else { return }
                let reply = server.next(Received(method: "\(h.method)", path: h.uri,
                                                 headers: h.headers.map { ($0.name, $0.value) }, body: body))
                let loop = context.eventLoop
                let ctx = NIOLoopBound(context, eventLoop: loop)
                if reply.gate > 0 {
                    server.hold(gate: reply.gate) { loop.execute { self.respond(ctx.value, reply) } }
                    return
                }
                loop.scheduleTask(in: .milliseconds(Int64(reply.delay * 1000))) {
                    self.respond(ctx.value, reply)
                }
            }
        }

        func respond(_ context: ChannelHandlerContext, _ reply: Reply) {
            var headers = HTTPHeaders(reply.headers)
            if !reply.cut {
                headers.add(name: "content-length", value: String(reply.chunks.reduce(0) { $0 + $1.utf8.count }))
            }
            let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            for c in reply.chunks {
                var b = context.channel.allocator.buffer(capacity: c.utf8.count)
                b.writeString(c)
                context.write(wrapOutboundOut(.body(.byteBuffer(b))), promise: nil)
            }
            if reply.cut {
                context.flush()
                context.close(promise: nil)
            } else {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
