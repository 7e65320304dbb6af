import Foundation
import OmegaCore
import OmegaModels

// Built by `scripts/fuzz` with `-sanitize=fuzzer -DFUZZING`: libFuzzer's
// main drives the target named by $OMEGA_FUZZ_TARGET. Built normally, it
// replays files through a target (to reproduce a finding):
//     omega-fuzz TARGET FILE…

#if FUZZING
private let target = ProcessInfo.processInfo.environment["OMEGA_FUZZ_TARGET"] ?? "reader"

/// libFuzzer's entry point: one input for the target chosen by `OMEGA_FUZZ_TARGET`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    FuzzTargets.run(target, Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

// SwiftPM links an executable's entry point as `OmegaFuzz_main`: it hands
// the command line to libFuzzer's driver.
/// The executable's entry point under libFuzzer: hands the command line to its driver.
@_cdecl("OmegaFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzOneInput(data, size) }
}
#else
@main
struct Replay {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        guard let target = args.first, FuzzTargets.names.contains(target) else {
            FileHandle.standardError.write(Data("usage: omega-fuzz TARGET FILE… (TARGET: \(FuzzTargets.names.joined(separator: ", ")))\n".utf8))
            exit(2)
        }
        for file in args.dropFirst() {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("omega-fuzz: cannot read \(file)\n".utf8))
                exit(1)
            }
            FuzzTargets.run(target, [UInt8](data))
            print("ok \(file)")
        }
    }
}
#endif
