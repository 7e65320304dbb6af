import Foundation
import PackagePlugin

/// Embeds the Scheme library of a target into it as a Swift string table
/// (`EmbeddedStdlib.sources`), in file-name order: `stdlib/core/*.scm` into
/// `OmegaCore`, `stdlib/models/*.scm` into `OmegaModels`.
@main
struct EmbedStdlib: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folder = target.name == "OmegaCore" ? "core" : target.name == "OmegaModels" ? "models" : target.name
        let dir = context.package.directoryURL.appending(path: "stdlib/\(folder)")
        let files = try FileManager.default
            .contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "scm" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedStdlib.swift")
        return [
            .buildCommand(
                displayName: "Embedding Scheme stdlib (\(files.count) files)",
                executable: try context.tool(named: "EmbedScheme").url,
                // The tool lists the directory itself, and the directory is an
                // input, so a file added to stdlib/ is picked up.
                arguments: [output.path, dir.path],
                inputFiles: files + [dir],
                outputFiles: [output]
            ),
        ]
    }
}
