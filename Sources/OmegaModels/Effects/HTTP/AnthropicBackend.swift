import Foundation
import OmegaCore

/// Anthropic's Messages API (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`).
///
/// Usage: `input_tokens` (which excludes cache reads and writes),
/// `output_tokens`, `cache_creation_input_tokens`, `cache_read_input_tokens`;
/// streamed, `message_start` carries the input side and `message_delta` the
/// cumulative output.
public struct AnthropicBackend: ModelBackend {
    public let name = "anthropic"
    /// The API's address (`https://api.anthropic.com`, or `$ANTHROPIC_BASE_URL`).
    public var baseURL: String
    var apiKey: String?
    /// Stream answers unless a call says otherwise.
    public var stream: Bool
    let tokens: TokenCounter
    var transport: HTTPTransport
    static let version = "2023-06-01"

    /// A backend for the Messages API at `baseURL`, counting locally with `tokens` when usage is missing.
    public init(baseURL: String, apiKey: String?, stream: Bool = false, tokens: TokenCounter = TokenCounter()) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.stream = stream
        self.tokens = tokens
        transport = HTTPTransport(secrets: [apiKey].compactMap { $0 })
    }

    /// The request body as the Messages API wants it.
    func body(_ r: InferenceRequest, stream: Bool) -> Data {
        // System messages go in the top-level `system`; the rest alternate user/assistant.
        let system = r.messages.filter { $0.role == "system" }.map(\.content).joined(separator: "\n\n")
        let body = AnthropicWire.Request(
            model: r.model, maxTokens: r.maxTokens,
            messages: r.messages.filter { $0.role != "system" }.map { .init(role: $0.role == "assistant" ? "assistant" : "user", content: $0.content) },
            system: system.isEmpty ? nil : system, temperature: r.temperature,
            stopSequences: r.stop.isEmpty ? nil : r.stop, stream: stream ? true : nil)
        return WireBody(fields: body, extra: r.providerFields).data()
    }

    var headers: [(String, String)] {
        [("anthropic-version", AnthropicBackend.version)] + (apiKey.map { [("x-api-key", $0)] } ?? [])
    }

    static func finishReason(_ stop: String?) -> String {
        switch stop {
        case "end_turn"?, "stop_sequence"?: return "stop"
        case "max_tokens"?: return "length"
        case let s?: return s
        case nil: return "stop"
        }
    }

    public func infer(_ request: InferenceRequest) async throws -> InferenceResult {
        guard apiKey != nil else {
            throw BackendError(.client, "ANTHROPIC_API_KEY is not set (the anthropic backend needs it)")
        }
        let started = Date()
        let url = baseURL + "/v1/messages"
        let wantsStream = request.stream ?? stream
        var reply = Reply()
        if wantsStream {
            do {
                try await transport.postStreaming(url, headers: headers, body: body(request, stream: true),
                                                  timeout: request.timeout, describeError: { _, d in JSON.errorText(d) }) { line in
                    try reply.feed(line)
                }
            } catch var e as BackendError where e.kind == .cutStream {
                e.billed = billed(request, reply.usage, reply.text)
                throw e
            }
            if !reply.ended {
                var e = BackendError(.cutStream, "the stream ended before message_stop")
                e.billed = billed(request, reply.usage, reply.text)
                throw e
            }
        } else {
            let data = try await transport.postJSON(url, headers: headers, body: body(request, stream: false),
                                                    timeout: request.timeout) { _, d in JSON.errorText(d) }
            reply = try Reply(decoding: data)
        }
        return result(reply, request, started: started)
    }

    /// A message as it arrives: a whole body, or stream events one line at a
    /// time (no network: also what the fuzzer feeds).
    struct Reply {
        var text = ""
        var stop: String?
        var usage = AnthropicWire.Usage()
        var answeredBy: String?
        var ended = false

        init() {}

        init(decoding data: Data) throws {
            guard let reply = decodeWire(AnthropicWire.Reply.self, data), let content = reply.content else {
                throw BackendError(.badResponse, "the server's answer is not a message: \(JSON.errorText(data))")
            }
            text = content.compactMap { $0.type == "text" ? $0.text : nil }.joined()
            stop = reply.stopReason
            usage = reply.usage ?? AnthropicWire.Usage()
            answeredBy = reply.model
            ended = true
        }

        mutating func feed(_ line: String) throws {
            guard line.hasPrefix("data:") else { return }
            let payload = Data(line.dropFirst(5).utf8)
            guard let event = decodeWire(AnthropicWire.Event.self, payload) else { return }
            switch event.type {
            case "message_start":
                answeredBy = event.message?.model
                usage = usage.merged(with: event.message?.usage)
            case "content_block_delta":
                if let t = event.delta?.text { text += t }
            case "message_delta":
                if let s = event.delta?.stopReason { stop = s }
                usage = usage.merged(with: event.usage)
            case "message_stop": ended = true
            case "error":
                throw BackendError(.server, "error in the stream: \(JSON.errorText(payload))")
            default: break
            }
        }
    }

    /// The result of a complete reply.
    func result(_ reply: Reply, _ request: InferenceRequest, started: Date) -> InferenceResult {
        var tokenUsage = billed(request, reply.usage, reply.text)
        let reported = reply.usage.inputTokens != nil && reply.usage.outputTokens != nil
        if !reported {
            tokenUsage = TokenUsage(inputTokens: request.promptTokens.tokens, outputTokens: tokens.count(reply.text, model: request.model).tokens)
        }
        return InferenceResult(text: reply.text, model: reply.answeredBy ?? request.model,
                               finishReason: AnthropicBackend.finishReason(reply.stop),
                               usage: tokenUsage, usageSource: reported ? .reported : .estimated,
                               latency: Date().timeIntervalSince(started), backend: name, requestID: request.id)
    }

    /// Usage as reported so far, with local counts for what is missing.
    func billed(_ request: InferenceRequest, _ usage: AnthropicWire.Usage, _ text: String) -> TokenUsage {
        TokenUsage(inputTokens: usage.inputTokens ?? request.promptTokens.tokens,
                   outputTokens: usage.outputTokens ?? tokens.count(text, model: request.model).tokens,
                   cacheReadTokens: usage.cacheReadTokens ?? 0,
                   cacheWriteTokens: usage.cacheWriteTokens ?? 0)
    }
}
