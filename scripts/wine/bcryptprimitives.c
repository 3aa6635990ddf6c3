/*
 * bcryptprimitives.dll for Wine 8.0, which lacks it: Go >= 1.24 programs
 * need ProcessPrng at start ("fatal error: bcryptprimitives.dll not
 * found"). This one fills the buffer with RtlGenRandom (advapi32's
 * SystemFunction036). Only scripts/wine.sh uses it, inside its own Wine
 * prefix; real Windows has the system's DLL.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
