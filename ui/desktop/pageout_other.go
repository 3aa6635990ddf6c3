//go:build !linux

package desktop

// pageOutShaderCompiler does nothing here: no Mesa software renderer.
func pageOutShaderCompiler() int { return 0 }
