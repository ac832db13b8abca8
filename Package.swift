// swift-tools-version: 6.1
import PackageDescription

// One idea per module, dependencies pointing one way:
// NXIR at the bottom; NXFormat, NXRuntime and NXModels on NXIR; NXConverters on NXFormat and
// NXModels; NXPathology on NXRuntime; the `nx` CLI, thin, on everything.
let package = Package(
    name: "HistoNeXt",
    products: [
        .executable(name: "nx", targets: ["nx"]),
        .library(name: "NXIR", targets: ["NXIR"]),
        .library(name: "NXFormat", targets: ["NXFormat"]),
        .library(name: "NXRuntime", targets: ["NXRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CPNG",
            path: "Sources/CPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]
        ),
        // What Swift has no spelling for: software prefetch, the spin-wait pause and the
        // interleaving permutes of the Winograd output transform and col2im.
        .target(name: "CPUHints"),
        .target(name: "NXIR"),
        .target(
            name: "NXFormat",
            dependencies: ["NXIR", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .target(
            name: "NXRuntime", dependencies: ["NXIR", "CBLAS", "CPUHints"],
            // Kernels are built for the machine that builds them (like -march=native), so
            // SIMD16<Float> becomes one AVX-512 register where the CPU has it; and optimized
            // in debug builds too, since the tests run whole networks through our GEMM,
            // which unoptimized Swift runs some hundred times slower.
            swiftSettings: [.unsafeFlags(["-target-cpu", "native", "-O"])]
        ),
        .target(name: "NXModels", dependencies: ["NXIR"], path: "Models", exclude: ["README.md", "Pretrained"]),
        .target(
            name: "NXConverters", dependencies: ["NXIR", "NXFormat", "NXModels"], path: "Converters",
            exclude: ["python"]
        ),
        .target(
            name: "NXPathology", dependencies: ["NXIR", "NXRuntime", "CPNG"],
            swiftSettings: [.unsafeFlags(["-target-cpu", "native"])]
        ),
        .executableTarget(
            name: "nx",
            dependencies: [
                "NXIR", "NXFormat", "NXRuntime", "NXModels", "NXConverters", "NXPathology",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers every test target shares (Python interop, temporary directories, seeded
        // randomness, fixture paths): a library, because test targets cannot share files.
        .target(name: "NXTestSupport", path: "Tests/NXTestSupport"),
        .testTarget(name: "NXIRTests", dependencies: ["NXIR"]),
        .testTarget(
            name: "NXFormatTests",
            dependencies: ["NXIR", "NXFormat", "NXTestSupport"]
        ),
        .testTarget(name: "NXRuntimeTests", dependencies: ["NXIR", "NXRuntime", "NXFormat", "NXTestSupport"]),
        .testTarget(
            name: "NXConformanceTests", dependencies: ["NXIR", "NXRuntime", "NXFormat"], exclude: ["cases.txt"]
        ),
        .testTarget(name: "NXModelsTests", dependencies: ["NXIR", "NXModels", "NXRuntime", "NXFormat", "NXTestSupport"]),
        .testTarget(name: "NXConvertersTests", dependencies: ["NXIR", "NXFormat", "NXModels", "NXConverters", "NXRuntime", "NXTestSupport"]),
        // Runs the built nx binary (a dependency, so `swift build --build-tests` builds it).
        .testTarget(name: "NXCLITests", dependencies: ["nx", "NXIR", "NXFormat"]),
        .testTarget(name: "NXPathologyTests", dependencies: ["NXIR", "NXRuntime", "NXPathology", "NXFormat", "NXModels", "NXTestSupport"]),
    ]
)
