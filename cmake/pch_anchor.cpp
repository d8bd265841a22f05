// The one source of the targets that own the precompiled headers
// (cmake/precompiled_headers.cmake): every other target reuses what they compile.
