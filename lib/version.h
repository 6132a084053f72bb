/* version: wsr's version, in lib/ so that every part (the HTTP client's
 * User-Agent, `wsr version`, the emulator) reports the same one. */
#ifndef WSR_LIB_VERSION_H
#define WSR_LIB_VERSION_H
#define WSR_VERSION "0.1.0"
#endif
