// swift-tools-version:6.0
import Foundation
import PackageDescription

/// `OMEGA_FUZZ=1` (set by scripts/fuzz): the library and the fuzzing entry
/// point are built with libFuzzer's coverage instrumentation; nothing else is.
let fuzzing = ProcessInfo.processInfo.environment["OMEGA_FUZZ"] == "1"
let fuzzSettings: [SwiftSetting] = fuzzing ? [.unsafeFlags(["-sanitize=fuzzer"]), .define("FUZZING")] : []

/// The package's own directory: linker inputs are named by absolute path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

let package = Package(
    name: "Omega",
    products: [
        // The Scheme engine alone: no SQLite, no HTTP, no YAML.
        .library(name: "OmegaCore", targets: ["OmegaCore"]),
        // The model runtime (effects, meter, ledger, config) on top of the engine.
        .library(name: "OmegaModels", targets: ["OmegaModels"]),
        // Both, for hosts that want the whole of Omega.
        .library(name: "Omega", targets: ["Omega"]),
        .executable(name: "omega", targets: ["OmegaCLI"]),
        .executable(name: "omega-embed-demo", targets: ["EmbedDemo"]),
        .executable(name: "omega-fuzz", targets: ["OmegaFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // YAML, for the seeds' token_budgets.yaml.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // SQLite, for the ledger: migrations, records, a pool of readers.
        // PostgreSQL, for a ledger shared by many hosts.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // The budget service (`omega serve`): HTTP, server-sent events, WebSocket.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Only for the tests' scripted HTTP server (AsyncHTTPClient builds on it anyway).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
    ],
    targets: [
        // Turns stdlib/*.scm into a Swift source file at build time, so the
        // `omega` binary carries its Scheme library and runs from anywhere.
        .executableTarget(name: "EmbedScheme", path: "Sources/EmbedScheme"),
        .plugin(name: "EmbedStdlib", capability: .buildTool(),
                dependencies: ["EmbedScheme"], path: "Plugins/EmbedStdlib"),

        // C helpers the Glibc module does not expose.
        .target(name: "COmegaShims", path: "Sources/COmegaShims"),
        // zlib, to read the gzipped tokenizer rank files (zlib1g-dev).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // GMP, for the engine's large integers (libgmp-dev).
        .systemLibrary(name: "CGMP", path: "Sources/CGMP",
                       providers: [.apt(["libgmp-dev"])]),
        // SQLite, for the ledger (libsqlite3-dev).
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite",
                       providers: [.apt(["libsqlite3-dev"])]),
        // libedit, for the REPL's line editing and history (libedit-dev).
        .systemLibrary(name: "CLibEdit", path: "Sources/CLibEdit",
                       providers: [.apt(["libedit-dev"])]),
        // The REPL's line editor: libedit behind a non-variadic C API.
        .target(name: "CLineEditor", dependencies: ["CLibEdit"], path: "Sources/CLineEditor",
                linkerSettings: [.linkedLibrary("edit")]),
        // The Scheme engine: values, memory, reader, compiler, VM, printer and
        // the R7RS libraries, with the embedding API. It knows nothing of models.
        .target(
            name: "OmegaCore",
            dependencies: ["COmegaShims", "CGMP"],
            path: "Sources/OmegaCore",
            swiftSettings: fuzzSettings,
            plugins: ["EmbedStdlib"]
        ),
        // The model runtime: tokens, prices, effects and backends, the meter,
        // the ledger, configuration, reports, alerts and the Session that sets
        // a run up. It attaches to an interpreter as a library the host opens.
        .target(
            name: "OmegaModels",
            dependencies: ["OmegaCore", "CZlib", "CSQLite",
                           .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "Yams", package: "Yams")],
            path: "Sources/OmegaModels",
            swiftSettings: fuzzSettings,
            plugins: ["EmbedStdlib"]
        ),
        // The budget service: the meter and ledger over HTTP for agents in any
        // language (JSON-RPC, events, an OpenAI-compatible endpoint, metrics).
        .target(
            name: "OmegaService",
            dependencies: ["OmegaCore", "OmegaModels",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Sources/OmegaService"
        ),
        // The umbrella: `import Omega` re-exports both.
        .target(name: "Omega", dependencies: ["OmegaCore", "OmegaModels"], path: "Sources/Omega"),
        // The `omega` command.
        .executableTarget(
            name: "OmegaCLI",
            dependencies: ["OmegaCore", "OmegaModels", "OmegaService", "COmegaShims", "CLineEditor", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/OmegaCLI",
            // Start-up (issue 18): the Swift runtime and Foundation linked in
            // (their static archives need CoreFoundation and ICU named), and a
            // position-dependent executable, so the loader has neither the
            // libraries to map nor 150,000 relocations to apply: 29 → 22.6 ms
            // for `omega -e 1`. The functions a start runs are placed side by
            // side (linker/startup.order, made by scripts/startup-order), so a
            // start maps fewer pages of code: 25 → 20 MB resident.
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-lCoreFoundation", "-l_FoundationICU",
                                           "-l_FoundationCShims", "-l_FoundationCollections",
                                           "-Xclang-linker", "-no-pie", "-Xlinker", "--no-export-dynamic",
                                           "-Xlinker", "--section-ordering-file=\(packageRoot)/linker/startup.order"])]
        ),
        // A small host program showing the embedding API (examples/embedding).
        .executableTarget(name: "EmbedDemo", dependencies: ["Omega"], path: "examples/embedding"),
        // The fuzzing entry point (scripts/fuzz); built normally it replays inputs.
        .executableTarget(name: "OmegaFuzz", dependencies: ["OmegaCore", "OmegaModels"], path: "Sources/OmegaFuzz", swiftSettings: fuzzSettings,
                          linkerSettings: fuzzing ? [.unsafeFlags(["-sanitize=fuzzer"])] : []),
        // A host of the engine alone: depends on OmegaCore and nothing else.
        .testTarget(name: "OmegaCoreTests", dependencies: ["OmegaCore"], path: "Tests/OmegaCoreTests"),
        .testTarget(name: "OmegaTests", dependencies: [
            "OmegaCore", "OmegaModels", "OmegaService", "COmegaShims",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], path: "Tests/OmegaTests"),
    ],
    swiftLanguageModes: [.v6]
)
