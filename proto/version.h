/*
 * Version numbers of the Annals release and of its wire protocol.
 * The Makefile reads ANNALS_VERSION_* from this file for the library's
 * soname, so keep each on a line of its own.  client/annals.h repeats
 * them (it is installed alone); a copy that differs fails the build of
 * libannals, whose files include both.
 */
#ifndef ANNALS_VERSION_H
#define ANNALS_VERSION_H

#define ANNALS_VERSION_MAJOR 0
#define ANNALS_VERSION_MINOR 1
#define ANNALS_VERSION_PATCH 0
#define ANNALS_VERSION_STRING "0.1.0"

/* Bumped on any incompatible change to proto/PROTOCOL.md. */
#define ANNALS_PROTO_VERSION 1

#endif
