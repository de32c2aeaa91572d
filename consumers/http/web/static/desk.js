// The dispute desk's progressive touches. Every page works without this script; it
// only adds conveniences on top of links and forms that already do the job.
"use strict";
