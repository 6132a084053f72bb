/* commands: one function per `wsr` verb, each in its own cmd_<verb>.c and
 * dispatched from the table in main.c. argv[0] is the verb; the return value
 * is the process exit status (0 ok, 1 error; plan --detailed-exitcode adds 2). */
#ifndef WSR_RECONCILER_COMMANDS_H
#define WSR_RECONCILER_COMMANDS_H

#include "lib/version.h"

int wsr_cmd_validate(int argc, char **argv);
int wsr_cmd_plan(int argc, char **argv);
int wsr_cmd_apply(int argc, char **argv);
int wsr_cmd_state(int argc, char **argv);
int wsr_cmd_import(int argc, char **argv);
int wsr_cmd_profiles(int argc, char **argv);
int wsr_cmd_kcp(int argc, char **argv);
int wsr_cmd_watch(int argc, char **argv);
int wsr_cmd_version(int argc, char **argv);
#endif
