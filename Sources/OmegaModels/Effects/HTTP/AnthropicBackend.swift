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
    public var baseURL: String
    var apiKey: String?
    public var stream: Bool
    let tokens: TokenCounter
    var transport: HTTPTransport
    static let version = "2023-06-01"

    public init(baseURL: String, apiKey: String?, stream: Bool = false, tokens: TokenCounter = TokenCounter()) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.stream = stream
        self.tokens = tokens
        transport = HTTPTransport(secrets: [apiKey].compactMap { $0 })
    }

    func body(_ r: InferenceRequest, stream: Bool) -> [String: Any] {
        // System messages go in the top-level `system`; the rest alternate user/assistant.
        let system = r.messages.filter { $0.role == "system" }.map(\.content).joined(separator: "\n\n")
        var body: [String: Any] = [
            "model": r.model, "max_tokens": r.maxTokens,
            "messages": r.messages.filter { $0.role != "system" }.map { ["role": $0.role == "assistant" ? "assistant" : "user", "content": $0.content] },
        ]
        if !system.isEmpty { body["system"] = system }
        if let t = r.temperature { body["temperature"] = t }
        if !r.stop.isEmpty { body["stop_sequences"] = r.stop }
        if stream { body["stream"] = true }
        return body
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
                try await transport.postStreaming(url, headers: headers, body: JSON.encode(body(request, stream: true)),
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
            let data = try await transport.postJSON(url, headers: headers, body: JSON.encode(body(request, stream: false)),
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
        var usage: [String: Any] = [:]
        var answeredBy: String?
        var ended = false

        init() {}

        init(decoding data: Data) throws {
            guard let o = JSON.object(data), let content = o["content"] as? [[String: Any]] else {
                throw BackendError(.badResponse, "the server's answer is not a message: \(JSON.errorText(data))")
            }
            text = content.compactMap { $0["type"] as? String == "text" ? $0["text"] as? String : nil }.joined()
            stop = o["stop_reason"] as? String
            usage = (o["usage"] as? [String: Any]) ?? [:]
            answeredBy = o["model"] as? String
            ended = true
        }

        mutating func feed(_ line: String) throws {
            guard line.hasPrefix("data:"), let o = JSON.object(String(line.dropFirst(5))) else { return }
            switch o["type"] as? String {
            case "message_start":
                let m = o["message"] as? [String: Any]
                answeredBy = m?["model"] as? String
                for (k, v) in (m?["usage"] as? [String: Any]) ?? [:] { usage[k] = v }
            case "content_block_delta":
                if let d = o["delta"] as? [String: Any], let t = d["text"] as? String { text += t }
            case "message_delta":
                if let d = o["delta"] as? [String: Any], let s = d["stop_reason"] as? String { stop = s }
                for (k, v) in (o["usage"] as? [String: Any]) ?? [:] { usage[k] = v }
            case "message_stop": ended = true
            case "error":
                throw BackendError(.server, "error in the stream: \(JSON.errorText(JSON.encode(o)))")
            default: break
            }
        }
    }

    /// The result of a complete reply.
    func result(_ reply: Reply, _ request: InferenceRequest, started: Date) -> InferenceResult {
        var tokenUsage = billed(request, reply.usage, reply.text)
        let reported = JSON.int(reply.usage["input_tokens"]) != nil && JSON.int(reply.usage["output_tokens"]) != nil
        if !reported {
            tokenUsage = TokenUsage(inputTokens: request.promptTokens.tokens, outputTokens: tokens.count(reply.text, model: request.model).tokens)
        }
        return InferenceResult(text: reply.text, model: reply.answeredBy ?? request.model,
                               finishReason: AnthropicBackend.finishReason(reply.stop),
                               usage: tokenUsage, usageSource: reported ? .reported : .estimated,
                               latency: Date().timeIntervalSince(started), backend: name, requestID: request.id)
    }

    /// Usage as reported so far, with local counts for what is missing.
    func billed(_ request: InferenceRequest, _ usage: [String: Any], _ text: String) -> TokenUsage {
        TokenUsage(inputTokens: JSON.int(usage["input_tokens"]) ?? request.promptTokens.tokens,
                   outputTokens: JSON.int(usage["output_tokens"]) ?? tokens.count(text, model: request.model).tokens,
                   cacheReadTokens: JSON.int(usage["cache_read_input_tokens"]) ?? 0,
                   cacheWriteTokens: JSON.int(usage["cache_creation_input_tokens"]) ?? 0)
    }
}
